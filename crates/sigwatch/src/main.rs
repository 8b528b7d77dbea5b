fn main() {
    println!("sigwatch");
}
