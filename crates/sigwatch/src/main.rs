//! The `sigwatch` binary: parse arguments, run the command, map errors to exit codes.

mod cli;
mod hunt;
mod rules;
mod source;

/// Loading thousands of rules and parsing millions of events is allocation-heavy: mimalloc
/// takes about a quarter off the CPU time of `check` compared with glibc's allocator (measured
/// with bench/check.sh).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[cfg(target_os = "linux")]
/// mimalloc's `arena_eager_commit` option (index 4 of `mi_option_e` in mimalloc 2 and 3).
const MI_OPTION_ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;

/// For `hunt`, which holds thousands of compiled rules for a long run: commit arena memory
/// as it is used rather than all at once. With eager commit a hunt's peak RSS is ~70 MB
/// higher (227 vs 154 MB with all Windows rules compiled) for no speed gain measured; short
/// commands (`check`, `convert`) keep eager commit, which is faster for them (221 vs 273 ms
/// median for `check` on 3,754 rules).
///
/// It has to run before anything allocates (the first allocation, before `main`, creates the
/// arena; set from `main`, the option changed nothing), so it is an ELF constructor, which
/// glibc calls with the program's arguments.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
#[used]
#[unsafe(link_section = ".init_array.00099")]
static TUNE_ALLOCATOR: extern "C" fn(
    std::ffi::c_int,
    *const *const std::ffi::c_char,
    *const *const std::ffi::c_char,
) = {
    extern "C" fn tune(
        argc: std::ffi::c_int,
        argv: *const *const std::ffi::c_char,
        _envp: *const *const std::ffi::c_char,
    ) {
        if argv.is_null() {
            return;
        }
        for i in 1..usize::try_from(argc).unwrap_or(0) {
            // SAFETY: glibc passes `argc` valid, NUL-terminated argument strings.
            let arg = unsafe {
                let p = *argv.add(i);
                if p.is_null() {
                    return;
                }
                std::ffi::CStr::from_ptr(p)
            };
            if arg.to_bytes() == b"hunt" {
                // SAFETY: `mi_option_set` only stores an integer option; any value is valid.
                unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_ARENA_EAGER_COMMIT, 0) };
                return;
            }
        }
    }
    tune
};

fn main() -> std::process::ExitCode {
    cli::main()
}
