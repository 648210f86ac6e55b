//! Triplets (q, q', q'') with q + q' + q'' ≡ 0 on a Γ-centred mesh, for a fixed q, reduced by
//! the little group of q (the rotations, time reversal included, that map q onto itself modulo
//! G) and by the exchange q' ↔ q''. Each kept triplet carries the number of (q', q'') pairs of
//! the full mesh it stands for; the weights add up to the number of mesh points.

use crate::harmonic::mesh::Mesh;

#[derive(Clone, Debug, PartialEq)]
pub struct Triplets {
    /// Grid index of q.
    pub q: usize,
    /// (grid index of q', grid index of q'', weight).
    pub list: Vec<(usize, usize, usize)>,
    /// For every grid point p: the kept triplet that stands for it, and whether p is in the
    /// little-group orbit of that triplet's q' (bit 0), of its q'' (bit 1), or of both. The
    /// collision matrix needs this: its column p takes the q' or the q'' view of the triplet.
    pub members: Vec<(u32, u8)>,
}

/// Grid index of −a − b (mod mesh).
pub fn third_point(mesh: &Mesh, g0: usize, g1: usize) -> usize {
    let (a, b) = (mesh.address(g0), mesh.address(g1));
    let c: [usize; 3] = std::array::from_fn(|k| {
        let n = mesh.n[k];
        (2 * n - a[k] - b[k]) % n
    });
    mesh.index(&c)
}

/// The irreducible triplets at grid point `g0` of a Γ-centred mesh. `rotations` act on reduced
/// q (reciprocal rotations, with time reversal if the crystal has it).
pub fn triplets_at_q(mesh: &Mesh, g0: usize, rotations: &[[[i32; 3]; 3]]) -> Triplets {
    assert!(
        mesh.shift == [false; 3],
        "triplets need a Γ-centred mesh (q + q' + q'' must stay on the grid)"
    );
    let np = mesh.n_points();
    let little: Vec<&[[i32; 3]; 3]> = rotations
        .iter()
        .filter(|r| mesh.rotate_point(r, g0) == g0)
        .collect();
    let mut members = vec![(u32::MAX, 0u8); np];
    let mut list = Vec::new();
    for g1 in 0..np {
        if members[g1].0 != u32::MAX {
            continue;
        }
        // The orbit of g1 under the little group, together with the orbit of its partner q''
        // (exchange symmetry): all these q' give the same contribution.
        let g2 = third_point(mesh, g0, g1);
        let t = list.len() as u32;
        let mut count = 0;
        for r in &little {
            for (p, side) in [
                (mesh.rotate_point(r, g1), 1u8),
                (mesh.rotate_point(r, g2), 2u8),
            ] {
                if members[p].0 != t {
                    members[p] = (t, 0);
                    count += 1;
                }
                members[p].1 |= side;
            }
        }
        list.push((g1, g2, count));
    }
    Triplets {
        q: g0,
        list,
        members,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_cover_the_mesh_and_momentum_is_conserved() {
        let mesh = Mesh::gamma_centered([5, 4, 3]);
        let id = [[1, 0, 0], [0, 1, 0], [0, 0, 1]];
        let inv = [[-1, 0, 0], [0, -1, 0], [0, 0, -1]];
        for g0 in [0, 7, 33] {
            let t = triplets_at_q(&mesh, g0, &[id, inv]);
            assert_eq!(t.list.iter().map(|x| x.2).sum::<usize>(), 60);
            for (p, &(ti, side)) in t.members.iter().enumerate() {
                let (g1, g2, _) = t.list[ti as usize];
                assert!(side != 0);
                // Time reversal/inversion maps g1 to −g1, so membership is about orbits.
                if p == g1 {
                    assert!(side & 1 == 1);
                }
                if p == g2 {
                    assert!(side & 2 == 2);
                }
            }
            for &(g1, g2, _) in &t.list {
                let (a, b, c) = (mesh.address(g0), mesh.address(g1), mesh.address(g2));
                for k in 0..3 {
                    assert_eq!((a[k] + b[k] + c[k]) % mesh.n[k], 0);
                }
            }
        }
    }
}
