#ifndef EMULSION_CLIBRAW_SHIM_H
#define EMULSION_CLIBRAW_SHIM_H
#include <libraw/libraw.h>

// Swift does not import C arrays of more than 4096 elements (color.cblack, color.curve,
// dng_levels.dng_cblack): these accessors reach them in place, without copying the ~187 KB struct.
static inline unsigned emulsion_cblack(const libraw_data_t *lr, int i) {
    return (i >= 0 && i < LIBRAW_CBLACK_SIZE) ? lr->rawdata.color.cblack[i] : 0;
}
static inline unsigned emulsion_black(const libraw_data_t *lr) { return lr->rawdata.color.black; }
static inline unsigned emulsion_maximum(const libraw_data_t *lr) { return lr->rawdata.color.maximum; }
static inline unsigned emulsion_linear_max(const libraw_data_t *lr, int c) {
    return (c >= 0 && c < 4) ? (unsigned)lr->rawdata.color.linear_max[c] : 0;
}
static inline unsigned short emulsion_curve(const libraw_data_t *lr, int i) {
    return (i >= 0 && i < 0x10000) ? lr->color.curve[i] : 0;
}
static inline const libraw_colordata_t *emulsion_color(const libraw_data_t *lr) { return &lr->rawdata.color; }
static inline const libraw_iparams_t *emulsion_iparams(const libraw_data_t *lr) { return &lr->rawdata.iparams; }
static inline const libraw_image_sizes_t *emulsion_sizes(const libraw_data_t *lr) { return &lr->rawdata.sizes; }
static inline const libraw_imgother_t *emulsion_other(const libraw_data_t *lr) { return &lr->other; }
static inline const libraw_lensinfo_t *emulsion_lens(const libraw_data_t *lr) { return &lr->lens; }
static inline int emulsion_cfa_colour(const libraw_data_t *lr, int row, int col) {
    return libraw_COLOR((libraw_data_t *)lr, row, col);
}
static inline char emulsion_xtrans(const libraw_data_t *lr, int row, int col) {
    return lr->idata.xtrans[row % 6][col % 6];
}
#endif
