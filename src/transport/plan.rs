//! What a κ run will cost, estimated before it starts: irreducible points, triplets, peak
//! memory and core-seconds, so that `latdyn info` can report it and `latdyn kappa` can refuse a
//! run that will not fit in memory.

use crate::anharmonic::triplets::triplets_at_q;

#[derive(Clone, Debug, serde::Serialize)]
pub struct KappaPlan {
    pub n_irreducible_q: usize,
    pub n_triplets: usize,
    pub memory_bytes: f64,
    /// Rough core-seconds: the per-triplet operation count divided by a rate calibrated on the
    /// development machine (Si 11³ and 19³, AlN 12×12×8 come out within ±25 % of the measured
    /// CPU time). Other machines differ; it is a guide, not a promise.
    pub core_seconds: f64,
    /// The part of `core_seconds` spent on four-phonon rates (0 without --fc4).
    pub four_phonon_core_seconds: f64,
}

pub fn plan(
    km: &super::job::KappaMesh,
    nb: usize,
    fc3: &crate::fc::fc3::Fc3,
    opts: &super::job::KappaOptions,
    threads: usize,
) -> KappaPlan {
    let (n_temperatures, wigner) = (opts.temperatures.len(), opts.wigner);
    let n_fc3_entries = fc3.terms.len();
    // Entries of the per-q transformed fc3: terms sharing (κ, κ', κ'', R' − R'').
    let collapsed: std::collections::HashSet<(usize, usize, usize, [i32; 3])> = fc3
        .terms
        .iter()
        .map(|t| {
            (
                t.i,
                t.j,
                t.k,
                std::array::from_fn(|c| t.cell_j[c] - t.cell_k[c]),
            )
        })
        .collect();
    let (m, ir, rotations) = (&km.mesh, &km.ir, &km.rotations);
    let n = m.n_points() as f64;
    // Exact count on small meshes; on large ones Σ_q N/(2|G_q|) ≈ N²/(2|G|) (Σ over the
    // irreducible q of 1/|G_q| is N/|G|), which is within ~10 % for Si 11³ and 19³.
    let n_triplets: usize = if m.n_points() <= 8000 {
        ir.ir_grid_points
            .iter()
            .map(|&g| triplets_at_q(m, g, rotations).list.len())
            .sum()
    } else {
        (n * n / (2.0 * rotations.len().max(1) as f64)).ceil() as usize
    };
    let (nbf, nq, nt) = (nb as f64, ir.qpoints.len() as f64, n_temperatures as f64);
    // LBTE: one reduced matrix per temperature (unknowns: bands × the dimension of the
    // vectors each irreducible q's little group fixes), plus, per point in flight (one per
    // thread), its full collision rows and its triplets' columns (≈ N/2 triplets).
    let lbte_bytes = if opts.lbte {
        let maps = super::lbte::StarMaps::new(ir, rotations, &km.cart);
        let m: f64 = maps.invariant_basis.iter().map(|b| b.len()).sum::<usize>() as f64 * nbf;
        let dim = 3.0 * nbf * nq;
        // With four-phonon Γ a copy of one matrix is solved first (three-phonon only).
        let matrices = nt + if opts.four_phonon.is_some() { 1.0 } else { 0.0 };
        matrices * m * m * 8.0
            + threads as f64 * nt * (3.0 * nbf * dim + (n / 2.0) * 2.0 * nbf * nbf) * 8.0
    } else {
        0.0
    };
    // Mesh phonons (eigenvectors 16 B, frequencies, velocities), the fc3 list twice (list and
    // transformed copy), per-thread work arrays (3 × nb³ complex), and the results
    // (Γ, mode κ, Wigner pair κ).
    let memory_bytes = process_and_phonons(n, nbf)
        + 2.0 * n_fc3_entries as f64 * 240.0
        + threads as f64 * 3.0 * nbf.powi(3) * 16.0
        + nt * nq * nbf * (8.0 * 3.0 + 48.0)
        + if wigner {
            nt * nq * nbf * nbf * 48.0
        } else {
            0.0
        }
        + lbte_bytes;
    // Per triplet: the Fourier sum (≈ 4 flops per component of each transformed entry), the
    // contraction (3 nb⁴ complex multiply-adds) and the δ weights (nb² pairs × 3 × 24
    // tetrahedra, ≈ 600 flops per pair and band of q).
    let flops = n_triplets as f64
        * (4.0 * 27.0 * collapsed.len() as f64 + 24.0 * nbf.powi(4) + 600.0 * nbf.powi(3))
        + if opts.lbte {
            // Building the reduced matrix and its Cholesky factorization, per temperature.
            let dim = 3.0 * nbf * nq;
            nt * (9.0 * dim * dim + dim.powi(3) / 3.0)
        } else {
            0.0
        };
    let (four_seconds, four_bytes) = opts.four_phonon.as_ref().map_or((0.0, 0.0), |s| {
        four_phonon_cost(
            s,
            m.n_points(),
            nb,
            ir.qpoints.len(),
            opts.temperatures.len(),
            threads,
        )
    });
    KappaPlan {
        n_irreducible_q: ir.qpoints.len(),
        n_triplets,
        memory_bytes: memory_bytes + four_bytes,
        core_seconds: flops / 4.5e9 + four_seconds,
        four_phonon_core_seconds: four_seconds,
    }
}

/// The plan of a run that reads the three-phonon Γ (`kappa --read-gamma --fc4`): only the mesh
/// phonons and the four-phonon rates cost anything; `n_triplets` is 0.
pub fn four_phonon_only_plan(
    km: &super::job::KappaMesh,
    nb: usize,
    settings: &super::four_phonon_job::FourPhononSettings,
    n_temperatures: usize,
    threads: usize,
) -> KappaPlan {
    let (n, nq) = (km.mesh.n_points(), km.ir.qpoints.len());
    let (seconds, bytes) = four_phonon_cost(settings, n, nb, nq, n_temperatures, threads);
    let nbf = nb as f64;
    KappaPlan {
        n_irreducible_q: nq,
        n_triplets: 0,
        memory_bytes: process_and_phonons(n as f64, nbf) + bytes,
        core_seconds: seconds,
        four_phonon_core_seconds: seconds,
    }
}

/// Bytes of the process itself (binary, allocator, symmetry, fc2) and of the phonons of an
/// `n`-point mesh with `nb` bands (eigenvectors 16 B, frequencies, velocities).
fn process_and_phonons(n: f64, nb: f64) -> f64 {
    20e6 + n * nb * (16.0 * nb + 8.0 + 24.0)
}

/// Core-seconds and extra bytes of the four-phonon rates. Per irreducible q every class visits
/// its unordered partner sets, ≈ 7N²/6 in all (N²/2 for ++ and +−, N²/6 for −−): each is
/// screened (≈ 1.05 ns per band quartet: the processes inside the window dominate) and, when
/// exact, its |V|² built from its row's bucket sums (8 flops per component of each bucket,
/// the leg-by-leg contraction, ≤ 8 nb⁵ flops, one phase per bucket; ≈ 1.4e10 flops/s on the
/// AVX2 path). Sampled with every row screened builds 3 × the draws from the fc4 terms directly
/// (4 flops per component of each term, 3 phases per site; ≈ 1.5e10 flops/s); with drawn rows
/// it screens only those and builds its draws from their bucket sums. Calibrated on SW Si (6³
/// and 8³ within 3 % of the measured CPU time, 4³ and 5³ about 25 % under: fixed costs weigh
/// more; the screening's fall with the window as the mesh grows is fitted to 12³ and 20³);
/// every set is taken as active, so it errs high where the window leaves many empty. Memory: per thread the reciprocal tensor, a set's processes and
/// a row's bucket sums, per q the occupation tables, and, sampled, one class's proposal (a
/// weight per active set and band of q; with drawn rows only a row's, per thread).
fn four_phonon_cost(
    settings: &super::four_phonon_job::FourPhononSettings,
    n_points: usize,
    nb: usize,
    nq: usize,
    nt: usize,
    threads: usize,
) -> (f64, f64) {
    use crate::anharmonic::four_phonon::FourPhononMode;
    let (n, nbf) = (n_points as f64, nb as f64);
    let fc4 = &settings.fc4;
    let (terms, sites, buckets) = (
        fc4.n_terms() as f64,
        fc4.n_sites() as f64,
        fc4.n_buckets() as f64,
    );
    let sets = 7.0 * n * n / 6.0;
    // The adaptive σ shrinks as 1/n (n = N^(1/3)), and with it the processes inside the window
    // that the screening visits: fitted to the drawn-row runs on 12³ and 20³ (72 % and 54 % of
    // the 8³ cost per set).
    let window = 0.3 + 0.7 * 8.0 / n.cbrt();
    let screen = 1.05e-9 * nbf.powi(4) * window;
    let contraction = 8.0 * nbf.powi(5);
    let in_row = (8.0 * 81.0 * buckets + contraction + 20.0 * buckets) / 1.4e10;
    let direct = (4.0 * 81.0 * terms + contraction + 60.0 * sites) / 1.5e10;
    let per_thread = nbf.powi(4) * (16.0 + 32.0) + 3.0 * sites * 16.0 + buckets * 81.0 * 16.0;
    let tables = n * nbf * (8.0 * nt as f64 + 40.0);
    let (seconds, proposal) = match settings.mode {
        FourPhononMode::Exact => (nq as f64 * sets * (screen + in_row), 0.0),
        FourPhononMode::Sampled { pairs, .. } => {
            let rows = settings.mode.screened_rows(n_points).expect("sampled");
            if rows >= n_points {
                (
                    nq as f64 * (sets * screen + 3.0 * pairs as f64 * direct),
                    // The screened rows and the folded proposal are alive together.
                    n * n / 2.0 * (40.0 + 10.0 * nbf),
                )
            } else {
                // Drawn rows: each screened in full (rows are drawn in proportion to their
                // set count, among other things, so a drawn row holds ≈ 1.2 × the average),
                // their buckets summed once, the draws built from them.
                let share = 1.2 * rows as f64 / n;
                let build = 3.0 * rows as f64 * 8.0 * 81.0 * terms / 1.4e10;
                let drawn = 3.0 * pairs.max(rows) as f64 * in_row;
                (
                    nq as f64 * (share * sets * screen + build + drawn),
                    threads as f64 * n * (20.0 + 10.0 * nbf),
                )
            }
        }
    };
    (seconds, threads as f64 * per_thread + tables + proposal)
}

/// Memory the system can give (MemAvailable of /proc/meminfo, bytes), when known.
pub fn available_memory() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024.0)
}
