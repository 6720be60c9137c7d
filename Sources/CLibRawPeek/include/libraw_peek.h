#ifndef EMULSION_LIBRAW_PEEK_H
#define EMULSION_LIBRAW_PEEK_H

// What LibRaw 0.20 decided while opening a file but keeps in its C++ object, out of the C API's
// reach. The handle is passed as `const void *` (a `libraw_data_t *` from libraw_init), so this
// module does not declare LibRaw's C types a second time beside CLibRaw's.
#ifdef __cplusplus
extern "C" {
#endif

// The file offset LibRaw's lossy-DNG loader reads the OpcodeList2 from (`meta_offset`, the
// position of the last tag 51009 it parsed, in any directory it followed), 0 when none.
long long emulsion_libraw_meta_offset(const void *handle);

#ifdef __cplusplus
}
#endif
#endif
