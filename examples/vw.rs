use std::io::Read;
fn main() {
    let mut s = String::new();
    std::io::stdin().read_to_string(&mut s).unwrap();
    let v: Vec<f64> = s.split_whitespace().map(|x| x.parse().unwrap()).collect();
    let mut t = [[0.0; 4]; 24];
    for i in 0..24 {
        for j in 0..4 {
            t[i][j] = v[4 * i + j];
        }
    }
    for w in &v[96..] {
        println!("{}", latdyn::harmonic::dos::vertex_weight(*w, &t));
    }
}
