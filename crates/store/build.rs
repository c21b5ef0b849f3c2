// `sqlx::migrate!` embeds the migration files at compile time but only
// notices changes to files it already knew; a new migration must rebuild
// the crate too.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
