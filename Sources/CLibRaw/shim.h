#ifndef EMULSION_CLIBRAW_SHIM_H
#define EMULSION_CLIBRAW_SHIM_H
#include <libraw/libraw.h>
#include <malloc.h>

// After a decode in a serving worker: the freed buffers of LibRaw's image (tens of MB) go back
// to the system instead of staying in glibc's heap while the worker waits for the next file.
static inline void emulsion_release_free_memory(void) { malloc_trim(0); }

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
/* LibRaw's linearisation curve, emulsion_curve_count() entries. */
static inline const unsigned short *emulsion_curve_table(const libraw_data_t *lr) { return lr->color.curve; }
static inline int emulsion_curve_count(void) { return (int)(sizeof(((libraw_colordata_t *)0)->curve) / sizeof(unsigned short)); }
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

// DNG colour data, read in place (the colour struct is too big to copy per field).
static inline unsigned emulsion_dng_parsed(const libraw_data_t *lr, int i) { return lr->rawdata.color.dng_color[i & 1].parsedfields; }
static inline int emulsion_dng_illuminant(const libraw_data_t *lr, int i) { return lr->rawdata.color.dng_color[i & 1].illuminant; }
static inline float emulsion_dng_colormatrix(const libraw_data_t *lr, int i, int r, int c) { return lr->rawdata.color.dng_color[i & 1].colormatrix[r & 3][c % 3]; }
static inline float emulsion_dng_forwardmatrix(const libraw_data_t *lr, int i, int r, int c) { return lr->rawdata.color.dng_color[i & 1].forwardmatrix[r % 3][c & 3]; }
static inline float emulsion_dng_calibration(const libraw_data_t *lr, int i, int r, int c) { return lr->rawdata.color.dng_color[i & 1].calibration[r & 3][c & 3]; }
static inline unsigned emulsion_dng_levels_parsed(const libraw_data_t *lr) { return lr->rawdata.color.dng_levels.parsedfields; }
static inline float emulsion_analog_balance(const libraw_data_t *lr, int c) { return lr->rawdata.color.dng_levels.analogbalance[c & 3]; }
static inline float emulsion_as_shot_neutral(const libraw_data_t *lr, int c) { return lr->rawdata.color.dng_levels.asshotneutral[c & 3]; }
static inline float emulsion_baseline_exposure(const libraw_data_t *lr) { return lr->rawdata.color.dng_levels.baseline_exposure; }
static inline float emulsion_cam_mul(const libraw_data_t *lr, int c) { return lr->rawdata.color.cam_mul[c & 3]; }
static inline float emulsion_pre_mul(const libraw_data_t *lr, int c) { return lr->rawdata.color.pre_mul[c & 3]; }
static inline float emulsion_rgb_cam(const libraw_data_t *lr, int r, int c) { return lr->rawdata.color.rgb_cam[r % 3][c & 3]; }
static inline float emulsion_cam_xyz(const libraw_data_t *lr, int r, int c) { return lr->rawdata.color.cam_xyz[r & 3][c % 3]; }
static inline const char *emulsion_lens_name(const libraw_data_t *lr) { return lr->lens.Lens; }
static inline const char *emulsion_lens_make(const libraw_data_t *lr) { return lr->lens.LensMake; }
static inline const unsigned short *emulsion_raw_image(const libraw_data_t *lr) { return lr->rawdata.raw_image; }
static inline const unsigned short *emulsion_color3_image(const libraw_data_t *lr) { return (const unsigned short *)lr->rawdata.color3_image; }
static inline const unsigned short *emulsion_color4_image(const libraw_data_t *lr) { return (const unsigned short *)lr->rawdata.color4_image; }
static inline const float *emulsion_float_image(const libraw_data_t *lr) { return lr->rawdata.float_image; }
#endif
