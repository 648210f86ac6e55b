fn main() {
    println!("latdyn");
}
