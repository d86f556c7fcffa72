//! The C ABI's contract, checked from Rust: versions agree everywhere, bad pointers and
//! bad strings get their status and a message, panics stop at the boundary.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use std::ffi::{c_char, c_void, CStr};
use std::ptr;
use std::sync::atomic::{AtomicUsize, Ordering};

use gaia::bandit::*;
use gaia::logger::{gaia_log_level, gaia_set_logger};
use gaia::status::{gaia_last_error, gaia_status, gaia_status_name};
use gaia::version::{gaia_abi_version, gaia_version};
use gaia::{gaia_string_free, gaia_test_panic};

fn last_error() -> String {
    unsafe { CStr::from_ptr(gaia_last_error()) }
        .to_string_lossy()
        .into_owned()
}

fn header() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../include/gaia.h")).unwrap()
}

fn define(header: &str, name: &str) -> String {
    let prefix = format!("#define {name} ");
    header
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("{name} not in gaia.h"))
        .trim()
        .to_owned()
}

#[test]
fn header_versions_match_cargo_and_the_library() {
    let h = header();
    let version = env!("CARGO_PKG_VERSION");
    let parts: Vec<&str> = version.split('.').collect();
    assert_eq!(define(&h, "GAIA_VERSION_MAJOR"), parts[0]);
    assert_eq!(define(&h, "GAIA_VERSION_MINOR"), parts[1]);
    assert_eq!(define(&h, "GAIA_VERSION_PATCH"), parts[2]);
    assert_eq!(define(&h, "GAIA_VERSION_STRING"), format!("\"{version}\""));
    assert_eq!(
        unsafe { CStr::from_ptr(gaia_version()) }.to_str().unwrap(),
        version
    );
    let abi = define(&h, "GAIA_ABI_VERSION");
    assert_eq!(abi, gaia_abi_version().to_string());
    // The soname set by build.rs carries the same number.
    let build_rs =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/build.rs")).unwrap();
    assert!(build_rs.contains(&format!("const ABI_MAJOR: u32 = {abi};")));
    assert!(h.contains(&format!("gaia_abi_v{abi}")));
}

#[test]
fn every_status_has_a_name_in_the_header() {
    let h = header();
    for code in 0..15 {
        let name = unsafe { CStr::from_ptr(gaia_status_name(code)) }
            .to_str()
            .unwrap();
        assert!(h.contains(&format!("{name} = {code},")), "{name} = {code}");
    }
    let unknown = unsafe { CStr::from_ptr(gaia_status_name(99)) };
    assert_eq!(unknown.to_str().unwrap(), "GAIA_UNKNOWN");
}

#[test]
fn null_pointers_are_refused_by_name() {
    unsafe {
        let mut b = ptr::null_mut();
        assert_eq!(
            gaia_bandit_new(ptr::null(), &mut b),
            gaia_status::GAIA_ERR_NULL_POINTER
        );
        assert_eq!(last_error(), "config_json is NULL");
        assert!(b.is_null(), "out-param untouched on failure");
        let cfg = c"{\"arms\":[\"a\"],\"seed\":1}";
        assert_eq!(
            gaia_bandit_new(cfg.as_ptr(), ptr::null_mut()),
            gaia_status::GAIA_ERR_NULL_POINTER
        );
        assert_eq!(last_error(), "out is NULL");
        let mut i = 0usize;
        assert_eq!(
            gaia_bandit_choose(ptr::null_mut(), &mut i),
            gaia_status::GAIA_ERR_NULL_POINTER
        );
        assert_eq!(last_error(), "gaia_bandit is NULL");
        assert_eq!(gaia_bandit_new(cfg.as_ptr(), &mut b), gaia_status::GAIA_OK);
        assert_eq!(
            gaia_bandit_choose(b, ptr::null_mut()),
            gaia_status::GAIA_ERR_NULL_POINTER
        );
        assert_eq!(
            gaia_bandit_update(b, ptr::null(), 1.0),
            gaia_status::GAIA_ERR_NULL_POINTER
        );
        assert_eq!(last_error(), "arm is NULL");
        assert_eq!(
            gaia_bandit_choose(b, &mut i),
            gaia_status::GAIA_OK,
            "still usable"
        );
        gaia_bandit_free(b);
        gaia_bandit_free(ptr::null_mut());
        gaia_string_free(ptr::null_mut());
    }
}

#[test]
fn invalid_utf8_is_an_error_not_ub() {
    unsafe {
        let mut b = ptr::null_mut();
        let bad = b"{\"arms\":[\"\xff\"]}\0";
        let status = gaia_bandit_new(bad.as_ptr().cast::<c_char>(), &mut b);
        assert_eq!(status, gaia_status::GAIA_ERR_INVALID_UTF8);
        assert_eq!(
            last_error(),
            "config_json is not valid UTF-8 (invalid byte at offset 10)"
        );
        assert_eq!(
            gaia_bandit_new(c"{\"arms\":[\"a\"]}".as_ptr(), &mut b),
            gaia_status::GAIA_OK
        );
        let arm = b"a\xc3\0";
        let status = gaia_bandit_update(b, arm.as_ptr().cast::<c_char>(), 1.0);
        assert_eq!(status, gaia_status::GAIA_ERR_INVALID_UTF8);
        assert_eq!(
            gaia_bandit_add_arm(b, arm.as_ptr().cast::<c_char>()),
            gaia_status::GAIA_ERR_INVALID_UTF8
        );
        gaia_bandit_free(b);
    }
}

#[test]
fn wrong_handles_are_refused() {
    unsafe {
        // A pointer to something that is not a bandit (here: a u64 array of zeros).
        let fake = [0u64; 4];
        let fake_ptr = fake.as_ptr() as *mut gaia_bandit;
        let mut i = 0usize;
        assert_eq!(
            gaia_bandit_choose(fake_ptr, &mut i),
            gaia_status::GAIA_ERR_INVALID_HANDLE
        );
        assert!(
            last_error().contains("not a live gaia_bandit"),
            "{}",
            last_error()
        );
        // Misaligned pointer.
        let bytes = [0u8; 32];
        let odd = bytes.as_ptr().wrapping_add(1) as *mut gaia_bandit;
        assert_eq!(
            gaia_bandit_choose(odd, &mut i),
            gaia_status::GAIA_ERR_INVALID_HANDLE
        );
        // Freeing a non-handle leaves it alone instead of corrupting the heap.
        gaia_bandit_free(fake_ptr);
        assert_eq!(fake, [0u64; 4]);
    }
}

#[test]
fn panics_stop_at_the_boundary() {
    assert_eq!(gaia_test_panic(), gaia_status::GAIA_ERR_PANIC);
    assert!(
        last_error().contains("gaia_test_panic was called"),
        "{}",
        last_error()
    );
}

#[test]
fn last_error_is_per_thread() {
    unsafe {
        let mut b = ptr::null_mut();
        assert_eq!(
            gaia_bandit_new(c"{".as_ptr(), &mut b),
            gaia_status::GAIA_ERR_INVALID_JSON
        );
        let here = last_error();
        assert!(here.starts_with("bandit config: EOF"), "{here}");
        let there = std::thread::spawn(last_error).join().unwrap();
        assert_eq!(there, "");
        assert_eq!(last_error(), here);
    }
}

#[test]
fn one_handle_many_threads() {
    unsafe {
        let mut b = ptr::null_mut();
        let cfg = c"{\"arms\":[\"a\",\"b\",\"c\"],\"seed\":5}";
        assert_eq!(gaia_bandit_new(cfg.as_ptr(), &mut b), gaia_status::GAIA_OK);
        let addr = b as usize;
        let threads: Vec<_> = (0..8)
            .map(|t| {
                std::thread::spawn(move || {
                    let b = addr as *mut gaia_bandit;
                    for k in 0..1000 {
                        let mut i = 0usize;
                        assert_eq!(gaia_bandit_choose(b, &mut i), gaia_status::GAIA_OK);
                        let r = f64::from(u8::from((k + t) % 3 == 0));
                        assert_eq!(gaia_bandit_update_index(b, i, r), gaia_status::GAIA_OK);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let mut s = ptr::null_mut();
        assert_eq!(gaia_bandit_stats_json(b, &mut s), gaia_status::GAIA_OK);
        let stats = CStr::from_ptr(s).to_str().unwrap().to_owned();
        gaia_string_free(s);
        assert!(stats.contains("\"total_pulls\":8000"), "{stats}");
        gaia_bandit_free(b);
    }
}

static LOGGED: AtomicUsize = AtomicUsize::new(0);
static FREED: AtomicUsize = AtomicUsize::new(0);

unsafe extern "C" fn count_log(
    userdata: *mut c_void,
    level: gaia_log_level,
    target: *const c_char,
    message: *const c_char,
) {
    assert_eq!(userdata as usize, 42);
    assert_eq!(level, gaia_log_level::GAIA_LOG_DEBUG);
    let target = unsafe { CStr::from_ptr(target) }.to_str().unwrap();
    let message = unsafe { CStr::from_ptr(message) }.to_str().unwrap();
    assert_eq!(target, "gaia::tune");
    if message.contains("added arm \"logged\"") {
        LOGGED.fetch_add(1, Ordering::SeqCst);
    }
}

unsafe extern "C" fn count_free(userdata: *mut c_void) {
    assert_eq!(userdata as usize, 42);
    FREED.fetch_add(1, Ordering::SeqCst);
}

#[test]
fn logger_receives_records_and_frees_userdata_once() {
    unsafe {
        let ud = 42usize as *mut c_void;
        assert_eq!(
            gaia_set_logger(Some(count_log), ud, Some(count_free), 9),
            gaia_status::GAIA_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            FREED.load(Ordering::SeqCst),
            0,
            "a refused call frees nothing"
        );
        assert_eq!(
            gaia_set_logger(Some(count_log), ud, Some(count_free), 4),
            gaia_status::GAIA_OK
        );
        let mut b = ptr::null_mut();
        assert_eq!(
            gaia_bandit_new(c"{\"arms\":[]}".as_ptr(), &mut b),
            gaia_status::GAIA_OK
        );
        assert_eq!(
            gaia_bandit_add_arm(b, c"logged".as_ptr()),
            gaia_status::GAIA_OK
        );
        gaia_bandit_free(b);
        assert!(LOGGED.load(Ordering::SeqCst) >= 1);
        assert_eq!(
            gaia_set_logger(None, ptr::null_mut(), None, 0),
            gaia_status::GAIA_OK
        );
        assert_eq!(
            FREED.load(Ordering::SeqCst),
            1,
            "old userdata freed on replacement"
        );
    }
}
