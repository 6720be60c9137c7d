#ifndef EMULSION_CLCMS2_SHIM_H
#define EMULSION_CLCMS2_SHIM_H
#include <lcms2.h>

// lcms2's TYPE_* pixel formats are macros Swift cannot import: re-exported as constants.
static const cmsUInt32Number emulsion_TYPE_RGB_FLT = TYPE_RGB_FLT;
static const cmsUInt32Number emulsion_TYPE_RGB_16 = TYPE_RGB_16;
static const cmsUInt32Number emulsion_TYPE_RGB_8 = TYPE_RGB_8;
static const cmsUInt32Number emulsion_TYPE_XYZ_DBL = TYPE_XYZ_DBL;
static const cmsUInt32Number emulsion_TYPE_Lab_DBL = TYPE_Lab_DBL;
static const cmsUInt32Number emulsion_TYPE_RGB_DBL = TYPE_RGB_DBL;
static const cmsUInt32Number emulsion_TYPE_XYZ_FLT = TYPE_XYZ_FLT;
static const cmsUInt32Number emulsion_TYPE_Lab_FLT = TYPE_Lab_FLT;
// One grey sample read from each RGB triple (the two after it skipped as extra channels): a grey
// image's profile applied to the RGB samples a grey PNG or TIFF was expanded to.
static const cmsUInt32Number emulsion_TYPE_GRAY_16_OF_RGB = COLORSPACE_SH(PT_GRAY) | CHANNELS_SH(1) | BYTES_SH(2) | EXTRA_SH(2);
#endif
