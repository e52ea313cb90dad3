//! Release builds embed the web app's built files (`web/build`, see
//! `src/web/assets.rs`); each embedded file is tracked by its inclusion, but
//! the folder appearing after a build without it is not. Watch the folder
//! when it exists, and `web/` for it to appear when it does not.
fn main() {
    let built = std::path::Path::new("../../web/build");
    if built.exists() {
        println!("cargo:rerun-if-changed=../../web/build");
    } else {
        println!("cargo:rerun-if-changed=../../web");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
