fn main() {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).unwrap());
    let b = std::fs::read(dir.join("snapshot.bin")).unwrap();
    let u = |at: usize| u64::from_le_bytes(b[at..at + 8].try_into().unwrap());
    let t = std::time::Instant::now();
    match matcher_core::persist::load(&dir.join("snapshot.bin"), (u(12), u(20))) {
        Ok(r) => println!(
            "ok {} companies {} needs in {:?}",
            r.companies.len(),
            r.needs.len(),
            t.elapsed()
        ),
        Err(e) => println!("error: {e}"),
    }
}
