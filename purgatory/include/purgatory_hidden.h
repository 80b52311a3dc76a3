/* purgatory_hidden.h: forced into every purgatory C file (-include). -fvisibility=hidden covers
 * definitions only; declarations of symbols defined elsewhere (kk_purgatory_params in entry.S,
 * functions of another file) would still go through the GOT, whose entries are relocations: on
 * arm64 ld keeps them as R_AARCH64_RELATIVE and check_relocs.py refuses the link. Hidden
 * declarations make every reference PC-relative (adrp/add) instead.
 */
#pragma GCC visibility push(hidden)
