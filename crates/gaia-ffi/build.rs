//! Sets the shared library's soname to `libgaia.so.<ABI major>`, so programs linked against
//! one ABI never load another by accident. The number must match `GAIA_ABI_VERSION`
//! (checked by `tests/abi.rs`).

const ABI_MAJOR: u32 = 1;

fn main() {
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if target_os == "linux" || target_os == "freebsd" {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libgaia.so.{ABI_MAJOR}");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
