//! `latdyn info`: what was read, and what a mesh calculation will cost.

use super::InputArgs;
use crate::crystal::symmetry::Symmetry;
use crate::error::Result;
use crate::harmonic::mesh::Mesh;
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct InfoArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// fc3 of a planned `latdyn kappa` run: also estimate its time and memory on --mesh.
    #[arg(long)]
    pub fc3: Option<PathBuf>,
    #[command(flatten)]
    pub fc3_layout: super::kappa::Fc3Layout,
    /// Temperatures of the planned κ run.
    #[arg(long, default_value = "300")]
    pub temperatures: String,
    /// The planned κ run adds the Wigner coherence term.
    #[arg(long)]
    pub wigner: bool,
    /// The planned κ run solves the linearized BTE directly.
    #[arg(long)]
    pub lbte: bool,
    /// --fc4 and the four-phonon flags of the planned run (the estimate adds their cost).
    #[command(flatten)]
    pub four_phonon: super::kappa::FourPhononArgs,
}

pub fn run(args: &InfoArgs) -> Result<()> {
    let a = &args.input;
    let deck = a.deck()?;
    let input = crate::workflow::load(&deck)?;
    let prim = input.primitive();
    let sym = Symmetry::new(prim, 1e-5)?;
    println!("cell:      {}", input.cell_path.display());
    println!(
        "fc2:       {} ({:?})",
        input.fc2_path.display(),
        input.fc2_format
    );
    println!(
        "primitive: {} ({} atoms), space group {} ({}), volume {:.4} Å³",
        prim.formula(),
        prim.n_atoms(),
        sym.symbol.trim(),
        sym.number,
        prim.volume()
    );
    for (r, n) in prim.lattice.iter().zip(["a", "b", "c"]) {
        println!("  {n} = [{:12.6} {:12.6} {:12.6}] Å", r[0], r[1], r[2]);
    }
    for i in 0..prim.n_atoms() {
        let p = prim.positions[i];
        println!(
            "  {:>3} {:<3} mass {:10.6} amu  at [{:.6} {:.6} {:.6}]",
            i + 1,
            prim.symbols[i],
            prim.masses[i],
            p[0],
            p[1],
            p[2]
        );
    }
    println!(
        "fc2 supercell: {} atoms (matrix {:?}); {} pair terms, range {:.3} Å",
        input.structure.fc2_supercell.n_atoms(),
        input.structure.fc2_supercell_matrix,
        input.fc2.pairs.len(),
        input.fc2.range(prim)
    );
    println!(
        "acoustic sum rule violation: {:.3e} eV/Å²{}",
        input.asr_violation,
        if input.asr_enforced {
            " (enforced)"
        } else {
            ""
        }
    );
    match &input.born {
        Some(b) => println!(
            "Born charges: yes (factor {:.6} eV·Å, charge neutrality violated by {:.2e})",
            b.factor,
            b.neutrality_violation()
        ),
        None => println!("Born charges: none (no non-analytic correction)"),
    }
    let mesh = deck.mesh.unwrap_or([20, 20, 20]);
    let ir = Mesh::gamma_centered(mesh).irreducible(&sym.reciprocal_rotations());
    let nb = 3 * prim.n_atoms();
    let n_full = mesh[0] * mesh[1] * mesh[2];
    // DOS keeps per-mode projections (nb² reals per grid point) and the frequencies.
    let dos_bytes = n_full * (nb * nb + nb) * 8;
    println!(
        "mesh {:?}: {} points, {} irreducible; memory for the projected DOS ≈ {:.1} MB",
        mesh,
        n_full,
        ir.qpoints.len(),
        dos_bytes as f64 / 1e6
    );
    if let Some(fc3_path) = &args.fc3 {
        let (fc3, asr) = args.fc3_layout.load(&input, fc3_path)?;
        // The four-phonon cost does not depend on δ: any will do for the plan.
        let four_phonon = args
            .four_phonon
            .settings_with(
                &input,
                crate::anharmonic::four_phonon::FourDelta::Adaptive(1.0),
                args.fc3_layout.fc3_cell.as_deref(),
            )?
            .map(|(s, _)| s);
        let opts = crate::transport::job::KappaOptions {
            wigner: args.wigner,
            lbte: args.lbte,
            four_phonon,
            ..crate::transport::job::KappaOptions::new(
                mesh,
                super::kappa::parse_temperatures(&args.temperatures)?,
            )
        };
        let km = crate::transport::job::kappa_mesh(prim, mesh)?;
        let p = crate::transport::plan::plan(&km, nb, &fc3, &opts, rayon::current_num_threads());
        println!(
            "fc3:       {} ({} terms, ASR violation {asr:.2e} eV/Å³)",
            fc3_path.display(),
            fc3.terms.len()
        );
        println!("kappa run: {}", super::kappa::describe_plan(&p));
        match crate::transport::plan::available_memory() {
            Some(avail) if p.memory_bytes > avail => println!(
                "           does NOT fit: {:.1} GB available (latdyn kappa refuses it without --force)",
                avail / 1e9
            ),
            Some(avail) => println!("           fits: {:.1} GB available", avail / 1e9),
            None => {}
        }
    }
    Ok(())
}
