/*
 * pngshim.c — libpng encode/decode behind a longjmp-free C API (see include/pngshim.h).
 *
 * What: two libpng drivers, shim_encode and shim_decode. Each owns its png_struct, its setjmp and
 * every libpng call made on that struct; the public functions only set up the byte source or sink
 * (FILE* or memory) and call one driver. The I/O callbacks and the error callback run inside the
 * driver's libpng calls, so their png_error/longjmp only ever unwinds C frames of the same driver.
 * For parallel encoding, emu_png_encode_header writes only the header chunks; the image data come
 * from the segmented encoder in pngsegments.c (no libpng, no longjmp, thread-safe).
 * Why: libpng reports errors with longjmp, which must never cross Swift frames; failures become a
 * result code plus a one-line message.
 * Reference: PNG Specification 2nd ed. (W3C / ISO/IEC 15948:2003): signature (5.2), IHDR (11.2.2),
 * filters (9), 16-bit samples are big-endian (7.1), iCCP (11.3.3.3); libpng 1.6 manual
 * (libpng-manual.txt): setjmp error handling, custom I/O, png_set_iCCP, read transformations;
 * zlib format (RFC 1950: header, Adler-32) and deflate (RFC 1951); zlib manual (deflate flush modes).
 */
#include "pngshim.h"

#include <errno.h>
#include <png.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

/* ------------------------------------------------------------------------------------------------ */
/* Shared context: message buffer, result code and the byte source/sink of one operation.           */

typedef struct {
    char *message;              /* caller's EMU_PNG_MESSAGE_SIZE buffer */
    int code;                   /* set by the first failure; later failures keep the first reason */
    int libpng_error_code;      /* code used when libpng itself raises png_error */
    const char *error_prefix;   /* put before libpng's own error text */
    char warning[160];          /* last libpng warning (used to explain a rejected iCCP profile) */

    FILE *file;                 /* file source or sink */

    const uint8_t *in_data;     /* memory source */
    size_t in_length;
    size_t in_position;

    uint8_t *out_data;          /* memory sink (malloc'd, grown by doubling) */
    size_t out_length;
    size_t out_capacity;
} shim_ctx;

static void shim_init(shim_ctx *ctx, char *message) {
    memset(ctx, 0, sizeof *ctx);
    ctx->message = message;
    if (message) message[0] = '\0';
}

/* Record a failure (first one wins) and return its code. */
static int shim_fail(shim_ctx *ctx, int code, const char *format, ...) {
    if (ctx->code != EMU_PNG_OK) return ctx->code;
    ctx->code = code;
    if (ctx->message) {
        va_list args;
        va_start(args, format);
        vsnprintf(ctx->message, EMU_PNG_MESSAGE_SIZE, format, args);
        va_end(args);
    }
    return code;
}

static void shim_png_error(png_structp png, png_const_charp text) {
    shim_ctx *ctx = (shim_ctx *)png_get_error_ptr(png);
    shim_fail(ctx, ctx->libpng_error_code, "%s%s", ctx->error_prefix ? ctx->error_prefix : "libpng: ",
              text ? text : "unknown error");
    png_longjmp(png, 1);
}

static void shim_png_warning(png_structp png, png_const_charp text) {
    shim_ctx *ctx = (shim_ctx *)png_get_error_ptr(png);
    snprintf(ctx->warning, sizeof ctx->warning, "%s", text ? text : "");
}

/* I/O callbacks: report through shim_fail first so the message names the real cause (errno, EOF). */

static void shim_file_write(png_structp png, png_bytep data, size_t length) {
    shim_ctx *ctx = (shim_ctx *)png_get_io_ptr(png);
    if (fwrite(data, 1, length, ctx->file) != length) {
        shim_fail(ctx, EMU_PNG_ERR_IO, "write failed: %s", strerror(errno));
        png_error(png, "write failed");
    }
}

static void shim_file_flush(png_structp png) {
    shim_ctx *ctx = (shim_ctx *)png_get_io_ptr(png);
    if (fflush(ctx->file) != 0) {
        shim_fail(ctx, EMU_PNG_ERR_IO, "write failed: %s", strerror(errno));
        png_error(png, "flush failed");
    }
}

static void shim_memory_write(png_structp png, png_bytep data, size_t length) {
    shim_ctx *ctx = (shim_ctx *)png_get_io_ptr(png);
    if (length > SIZE_MAX - ctx->out_length) {
        shim_fail(ctx, EMU_PNG_ERR_TOO_LARGE, "encoded PNG does not fit in memory");
        png_error(png, "output too large");
    }
    size_t needed = ctx->out_length + length;
    if (needed > ctx->out_capacity) {
        size_t capacity = ctx->out_capacity ? ctx->out_capacity : 65536;
        while (capacity < needed) capacity = capacity > SIZE_MAX / 2 ? needed : capacity * 2;
        uint8_t *grown = (uint8_t *)realloc(ctx->out_data, capacity);
        if (!grown) {
            shim_fail(ctx, EMU_PNG_ERR_NO_MEMORY, "out of memory growing the output buffer to %zu bytes", capacity);
            png_error(png, "out of memory");
        }
        ctx->out_data = grown;
        ctx->out_capacity = capacity;
    }
    memcpy(ctx->out_data + ctx->out_length, data, length);
    ctx->out_length = needed;
}

static void shim_memory_flush(png_structp png) { (void)png; }

static void shim_file_read(png_structp png, png_bytep data, size_t length) {
    shim_ctx *ctx = (shim_ctx *)png_get_io_ptr(png);
    size_t got = fread(data, 1, length, ctx->file);
    if (got != length) {
        if (ferror(ctx->file))
            shim_fail(ctx, EMU_PNG_ERR_IO, "read failed: %s", strerror(errno));
        else
            shim_fail(ctx, EMU_PNG_ERR_CORRUPT, "unexpected end of file (truncated PNG)");
        png_error(png, "read failed");
    }
}

static void shim_memory_read(png_structp png, png_bytep data, size_t length) {
    shim_ctx *ctx = (shim_ctx *)png_get_io_ptr(png);
    if (length > ctx->in_length - ctx->in_position) {
        shim_fail(ctx, EMU_PNG_ERR_CORRUPT, "unexpected end of data (truncated PNG)");
        png_error(png, "read past end");
    }
    memcpy(data, ctx->in_data + ctx->in_position, length);
    ctx->in_position += length;
}

/* ------------------------------------------------------------------------------------------------ */
/* Encoding                                                                                          */

static int shim_check_encode_arguments(shim_ctx *ctx, const uint16_t *samples, uint32_t width, uint32_t height,
                                       int channels, int bit_depth, const uint8_t *icc, size_t icc_length,
                                       int compression_level, int filter, int strategy) {
    if (!samples) return shim_fail(ctx, EMU_PNG_ERR_ARGUMENT, "no sample buffer");
    if (width == 0 || height == 0 || width > PNG_UINT_31_MAX || height > PNG_UINT_31_MAX)
        return shim_fail(ctx, EMU_PNG_ERR_ARGUMENT, "invalid image size %ux%u", width, height);
    if (channels != 1 && channels != 3)
        return shim_fail(ctx, EMU_PNG_ERR_ARGUMENT, "unsupported channel count %d (expected 1 or 3)", channels);
    if (bit_depth != 8 && bit_depth != 16)
        return shim_fail(ctx, EMU_PNG_ERR_ARGUMENT, "unsupported bit depth %d (expected 8 or 16)", bit_depth);
    if ((uint64_t)width * channels * (bit_depth / 8) + 1 > (uint64_t)PNG_SIZE_MAX / 2)
        return shim_fail(ctx, EMU_PNG_ERR_TOO_LARGE, "image rows of %u pixels are too wide", width);
    if (icc && (icc_length == 0 || icc_length > PNG_UINT_31_MAX))
        return shim_fail(ctx, EMU_PNG_ERR_ARGUMENT, "invalid ICC profile length %zu", icc_length);
    if (compression_level < 0 || compression_level > 9)
        return shim_fail(ctx, EMU_PNG_ERR_ARGUMENT, "invalid zlib compression level %d (expected 0-9)",
                         compression_level);
    if (filter < EMU_PNG_FILTER_NONE || filter > EMU_PNG_FILTER_ADAPTIVE)
        return shim_fail(ctx, EMU_PNG_ERR_ARGUMENT, "invalid filter choice %d", filter);
    if (strategy < EMU_PNG_STRATEGY_AUTO || strategy > EMU_PNG_STRATEGY_FAST_HUFFMAN)
        return shim_fail(ctx, EMU_PNG_ERR_ARGUMENT, "invalid compression strategy %d", strategy);
    return EMU_PNG_OK;
}

/*
 * Convert one row of host uint16 samples to PNG bytes: 16-bit samples most significant byte first
 * (spec 7.1), 8-bit samples must be 0...255. No libpng involved.
 */
static int shim_pack_row(shim_ctx *ctx, const uint16_t *source, size_t row_samples, int channels, int bit_depth,
                         uint32_t y, uint8_t *target) {
    if (bit_depth == 16) {
        for (size_t i = 0; i < row_samples; i++) {
            target[2 * i] = (uint8_t)(source[i] >> 8);
            target[2 * i + 1] = (uint8_t)(source[i] & 0xFF);
        }
        return EMU_PNG_OK;
    }
    uint16_t high = 0;
    for (size_t i = 0; i < row_samples; i++) {
        high |= source[i];
        target[i] = (uint8_t)source[i];
    }
    if (high > 0xFF) {
        for (size_t i = 0; i < row_samples; i++)
            if (source[i] > 0xFF)
                return shim_fail(ctx, EMU_PNG_ERR_ARGUMENT,
                                 "sample value %u at row %u, column %zu exceeds 255 for an 8-bit PNG",
                                 (unsigned)source[i], y, i / (size_t)channels);
    }
    return EMU_PNG_OK;
}

/* All inputs of one encode. `header_only` stops after the header chunks (the segmented encoder,
 * pngsegments.c, writes the image data). */
typedef struct {
    const uint16_t *samples;
    uint32_t width, height;
    int channels, bit_depth;
    const uint8_t *icc;
    size_t icc_length;
    const char *icc_name;
    int compression_level, filter, strategy;
    int header_only;
} shim_encode_args;

/* The one function that drives a libpng write struct. Arguments are already checked. */
static int shim_encode(shim_ctx *ctx, png_rw_ptr write_fn, png_flush_ptr flush_fn, const shim_encode_args *a) {
    const uint32_t width = a->width, height = a->height;
    const int channels = a->channels, bit_depth = a->bit_depth;
    ctx->libpng_error_code = EMU_PNG_ERR_LIBPNG;
    ctx->error_prefix = "libpng: ";
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, ctx, shim_png_error, shim_png_warning);
    if (!png) return shim_fail(ctx, EMU_PNG_ERR_NO_MEMORY, "cannot create libpng write structure");
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        return shim_fail(ctx, EMU_PNG_ERR_NO_MEMORY, "cannot create libpng info structure");
    }
    const size_t row_samples = (size_t)width * (size_t)channels;
    const size_t row_bytes = row_samples * (size_t)(bit_depth / 8);
    png_bytep volatile row = NULL;

    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        free(row);
        if (ctx->code == EMU_PNG_OK) shim_fail(ctx, EMU_PNG_ERR_LIBPNG, "libpng: unknown error");
        return ctx->code;
    }

    png_set_write_fn(png, ctx, write_fn, flush_fn);
    png_set_IHDR(png, info, width, height, bit_depth,
                 channels == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_GRAY,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (a->icc) {
        const char *name = (a->icc_name && a->icc_name[0]) ? a->icc_name : "ICC Profile";
        ctx->warning[0] = '\0';
        /* libpng checks the profile header and tag table against the colour type (png_error). */
        ctx->libpng_error_code = EMU_PNG_ERR_ARGUMENT;
        ctx->error_prefix = "ICC profile rejected by libpng: ";
        png_set_iCCP(png, info, name, PNG_COMPRESSION_TYPE_BASE, a->icc, (png_uint_32)a->icc_length);
        ctx->libpng_error_code = EMU_PNG_ERR_LIBPNG;
        ctx->error_prefix = "libpng: ";
        /* libpng may drop an invalid profile with only a warning: never write a file without it. */
        png_charp got_name = NULL;
        int got_compression = 0;
        png_bytep got_profile = NULL;
        png_uint_32 got_length = 0;
        if (png_get_iCCP(png, info, &got_name, &got_compression, &got_profile, &got_length) != PNG_INFO_iCCP ||
            got_length != a->icc_length) {
            shim_fail(ctx, EMU_PNG_ERR_ARGUMENT, "ICC profile rejected by libpng: %s",
                      ctx->warning[0] ? ctx->warning : "invalid profile");
            png_error(png, "ICC profile rejected");
        }
    }
    png_set_compression_level(png, a->compression_level);
    /* libpng's row loop has no fast Huffman coder: at level 1 zlib's Huffman-only gives the same
     * size; at levels 2-9 FAST_HUFFMAN means zlib with matches (as AUTO), as in pngsegments.c. */
    if (a->strategy == EMU_PNG_STRATEGY_RLE) png_set_compression_strategy(png, Z_RLE);
    else if (a->strategy == EMU_PNG_STRATEGY_HUFFMAN_ONLY ||
             (a->strategy == EMU_PNG_STRATEGY_FAST_HUFFMAN && a->compression_level <= 1))
        png_set_compression_strategy(png, Z_HUFFMAN_ONLY);
    int filters;
    switch (a->filter) {
    case EMU_PNG_FILTER_NONE: filters = PNG_FILTER_NONE; break;
    case EMU_PNG_FILTER_SUB: filters = PNG_FILTER_SUB; break;
    case EMU_PNG_FILTER_UP: filters = PNG_FILTER_UP; break;
    case EMU_PNG_FILTER_PAETH: filters = PNG_FILTER_PAETH; break;
    default: filters = PNG_ALL_FILTERS; break;
    }
    png_set_filter(png, PNG_FILTER_TYPE_BASE, filters);
    png_write_info(png, info);
    if (a->header_only) {
        /* Signature, IHDR and iCCP are out; the caller writes the image data itself. */
        png_destroy_write_struct(&png, &info);
        return ctx->code;
    }

    row = (png_bytep)malloc(row_bytes);
    if (!row) {
        shim_fail(ctx, EMU_PNG_ERR_NO_MEMORY, "out of memory allocating a %zu-byte row", row_bytes);
        png_error(png, "out of memory");
    }
    for (uint32_t y = 0; y < height; y++) {
        if (shim_pack_row(ctx, a->samples + (size_t)y * row_samples, row_samples, a->channels, a->bit_depth, y,
                          row) != EMU_PNG_OK)
            png_error(png, "sample out of range");
        png_write_row(png, row);
    }
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    free(row);
    return ctx->code;
}

/* File sink: open, encode, then flush and close with their errors checked. */
static int shim_encode_to_file(shim_ctx *ctx, const char *path, const shim_encode_args *args) {
    FILE *file = fopen(path, "wb");
    if (!file) return shim_fail(ctx, EMU_PNG_ERR_OPEN, "cannot open for writing: %s", strerror(errno));
    struct stat status;
    /* Only a regular file we wrote into is removed on failure (never /dev/full or a FIFO). */
    int regular = fstat(fileno(file), &status) == 0 && S_ISREG(status.st_mode);
    setvbuf(file, NULL, _IOFBF, 1 << 18);
    ctx->file = file;

    int rc = shim_encode(ctx, shim_file_write, shim_file_flush, args);
    /* Buffered data reaches the kernel only here: a full disk or EFBIG often shows up at flush/close. */
    if (rc == EMU_PNG_OK && (fflush(file) != 0 || ferror(file)))
        rc = shim_fail(ctx, EMU_PNG_ERR_IO, "write failed: %s", strerror(errno));
    if (fclose(file) != 0 && rc == EMU_PNG_OK)
        rc = shim_fail(ctx, EMU_PNG_ERR_IO, "cannot close file: %s", strerror(errno));
    if (rc != EMU_PNG_OK && regular) unlink(path);
    return rc;
}

/* Memory sink: the buffer is handed over only on success. */
static int shim_encode_to_memory(shim_ctx *ctx, const shim_encode_args *args, uint8_t **out_data,
                                 size_t *out_length) {
    int rc = shim_encode(ctx, shim_memory_write, shim_memory_flush, args);
    if (rc != EMU_PNG_OK) {
        free(ctx->out_data);
        return rc;
    }
    *out_data = ctx->out_data;
    *out_length = ctx->out_length;
    return EMU_PNG_OK;
}

int emu_png_write_file(const char *path,
                       const uint16_t *samples, uint32_t width, uint32_t height,
                       int channels, int bit_depth,
                       const uint8_t *icc, size_t icc_length, const char *icc_name,
                       int compression_level, int filter, int strategy,
                       char message[EMU_PNG_MESSAGE_SIZE]) {
    shim_ctx ctx;
    shim_init(&ctx, message);
    if (!path || !path[0]) return shim_fail(&ctx, EMU_PNG_ERR_ARGUMENT, "empty output path");
    int rc = shim_check_encode_arguments(&ctx, samples, width, height, channels, bit_depth, icc, icc_length,
                                         compression_level, filter, strategy);
    if (rc != EMU_PNG_OK) return rc;
    const shim_encode_args args = {samples, width, height, channels, bit_depth, icc, icc_length, icc_name,
                                   compression_level, filter, strategy, 0};
    return shim_encode_to_file(&ctx, path, &args);
}

int emu_png_write_memory(const uint16_t *samples, uint32_t width, uint32_t height,
                         int channels, int bit_depth,
                         const uint8_t *icc, size_t icc_length, const char *icc_name,
                         int compression_level, int filter, int strategy,
                         uint8_t **out_data, size_t *out_length,
                         char message[EMU_PNG_MESSAGE_SIZE]) {
    shim_ctx ctx;
    shim_init(&ctx, message);
    if (!out_data || !out_length) return shim_fail(&ctx, EMU_PNG_ERR_ARGUMENT, "no output pointers");
    *out_data = NULL;
    *out_length = 0;
    int rc = shim_check_encode_arguments(&ctx, samples, width, height, channels, bit_depth, icc, icc_length,
                                         compression_level, filter, strategy);
    if (rc != EMU_PNG_OK) return rc;
    const shim_encode_args args = {samples, width, height, channels, bit_depth, icc, icc_length, icc_name,
                                   compression_level, filter, strategy, 0};
    return shim_encode_to_memory(&ctx, &args, out_data, out_length);
}

int emu_png_encode_header(uint32_t width, uint32_t height, int channels, int bit_depth,
                          const uint8_t *icc, size_t icc_length, const char *icc_name,
                          uint8_t **out_data, size_t *out_length,
                          char message[EMU_PNG_MESSAGE_SIZE]) {
    static const uint16_t unused = 0;
    shim_ctx ctx;
    shim_init(&ctx, message);
    if (!out_data || !out_length) return shim_fail(&ctx, EMU_PNG_ERR_ARGUMENT, "no output pointers");
    *out_data = NULL;
    *out_length = 0;
    int rc = shim_check_encode_arguments(&ctx, &unused, width, height, channels, bit_depth, icc, icc_length,
                                         6, EMU_PNG_FILTER_NONE, EMU_PNG_STRATEGY_AUTO);
    if (rc != EMU_PNG_OK) return rc;
    const shim_encode_args args = {&unused, width, height, channels, bit_depth, icc, icc_length, icc_name,
                                   6, EMU_PNG_FILTER_NONE, EMU_PNG_STRATEGY_AUTO, 1};
    return shim_encode_to_memory(&ctx, &args, out_data, out_length);
}

/* ------------------------------------------------------------------------------------------------ */
/* Decoding                                                                                          */

static const char *shim_color_type_name(int color_type) {
    switch (color_type) {
    case PNG_COLOR_TYPE_GRAY: return "grayscale";
    case PNG_COLOR_TYPE_GRAY_ALPHA: return "grayscale+alpha";
    case PNG_COLOR_TYPE_RGB: return "RGB";
    case PNG_COLOR_TYPE_RGB_ALPHA: return "RGBA";
    case PNG_COLOR_TYPE_PALETTE: return "palette";
    default: return "unknown colour type";
    }
}

/*
 * The one function that drives a libpng read struct. The 8-byte signature has already been read
 * and checked by the caller; `read_fn` continues from there.
 */
static int shim_decode(shim_ctx *ctx, png_rw_ptr read_fn, int gray_only, emu_png_decoded *out) {
    ctx->libpng_error_code = EMU_PNG_ERR_CORRUPT;
    ctx->error_prefix = "invalid PNG data: ";
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, ctx, shim_png_error, shim_png_warning);
    if (!png) return shim_fail(ctx, EMU_PNG_ERR_NO_MEMORY, "cannot create libpng read structure");
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        return shim_fail(ctx, EMU_PNG_ERR_NO_MEMORY, "cannot create libpng info structure");
    }
    uint16_t *volatile samples = NULL;
    png_bytepp volatile rows = NULL;
    uint8_t *volatile icc = NULL;

    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        free(samples);
        free(rows);
        free(icc);
        memset(out, 0, sizeof *out);
        if (ctx->code == EMU_PNG_OK) shim_fail(ctx, EMU_PNG_ERR_CORRUPT, "invalid PNG data");
        return ctx->code;
    }

    png_set_read_fn(png, ctx, read_fn);
    png_set_sig_bytes(png, 8);
    /* Our own pixel-count limit below replaces libpng's default 1,000,000 per side. */
    png_set_user_limits(png, PNG_UINT_31_MAX, PNG_UINT_31_MAX);
    png_read_info(png, info);

    png_uint_32 width = 0, height = 0;
    int bit_depth = 0, color_type = 0;
    png_get_IHDR(png, info, &width, &height, &bit_depth, &color_type, NULL, NULL, NULL);
    if ((uint64_t)width * (uint64_t)height > EMU_PNG_MAX_PIXELS) {
        shim_fail(ctx, EMU_PNG_ERR_TOO_LARGE, "image is %ux%u pixels (%llu MP), above the %llu MP limit",
                  (unsigned)width, (unsigned)height,
                  (unsigned long long)((uint64_t)width * height / 1000000u),
                  (unsigned long long)(EMU_PNG_MAX_PIXELS / 1000000u));
        png_error(png, "image too large");
    }

    int channels;
    if (gray_only) {
        if (color_type != PNG_COLOR_TYPE_GRAY || (bit_depth != 8 && bit_depth != 16)) {
            shim_fail(ctx, EMU_PNG_ERR_UNSUPPORTED,
                      "expected a single-channel 8- or 16-bit grayscale PNG, found %s %d-bit",
                      shim_color_type_name(color_type), bit_depth);
            png_error(png, "not a gray mosaic");
        }
        channels = 1;
    } else {
        if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
        if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
        if (color_type == PNG_COLOR_TYPE_GRAY || color_type == PNG_COLOR_TYPE_GRAY_ALPHA) png_set_gray_to_rgb(png);
        if (color_type & PNG_COLOR_MASK_ALPHA) png_set_strip_alpha(png);
        channels = 3;
    }
    {
        /* 16-bit PNG samples are big-endian; swap to host order on little-endian machines. */
        const uint16_t probe = 1;
        if (bit_depth == 16 && *(const uint8_t *)&probe == 1) png_set_swap(png);
    }
    (void)png_set_interlace_handling(png);
    png_read_update_info(png, info);

    const int out_depth = png_get_bit_depth(png, info);
    const size_t row_samples = (size_t)width * (size_t)channels;
    if (png_get_channels(png, info) != channels || (out_depth != 8 && out_depth != 16) ||
        png_get_rowbytes(png, info) != row_samples * (size_t)(out_depth / 8)) {
        shim_fail(ctx, EMU_PNG_ERR_UNSUPPORTED, "unexpected layout after transformations (%d channels, %d-bit)",
                  (int)png_get_channels(png, info), out_depth);
        png_error(png, "unexpected layout");
    }

    {
        png_charp name = NULL;
        int compression = 0;
        png_bytep profile = NULL;
        png_uint_32 profile_length = 0;
        if (png_get_iCCP(png, info, &name, &compression, &profile, &profile_length) == PNG_INFO_iCCP &&
            profile && profile_length > 0) {
            icc = (uint8_t *)malloc(profile_length);
            if (!icc) {
                shim_fail(ctx, EMU_PNG_ERR_NO_MEMORY, "out of memory copying a %u-byte ICC profile",
                          (unsigned)profile_length);
                png_error(png, "out of memory");
            }
            memcpy(icc, profile, profile_length);
            out->icc_length = profile_length;
        }
    }

    const size_t total = row_samples * (size_t)height; /* at most 400e6 * 3: no overflow on 64-bit */
    samples = (uint16_t *)malloc(total * sizeof(uint16_t));
    rows = (png_bytepp)malloc((size_t)height * sizeof(png_bytep));
    if (!samples || !rows) {
        shim_fail(ctx, EMU_PNG_ERR_NO_MEMORY, "out of memory allocating %zu samples for a %ux%u image",
                  total, (unsigned)width, (unsigned)height);
        png_error(png, "out of memory");
    }
    /* Each row lands at the start of its own uint16 row; 8-bit rows are widened in place below. */
    for (png_uint_32 y = 0; y < height; y++) rows[y] = (png_bytep)(samples + (size_t)y * row_samples);
    png_read_image(png, rows);
    png_read_end(png, NULL);

    if (out_depth == 8) {
        for (png_uint_32 y = 0; y < height; y++) {
            const uint8_t *bytes = rows[y];
            uint16_t *wide = samples + (size_t)y * row_samples;
            /* Backwards: wide[i] covers bytes 2i and 2i+1, never a byte j < i still to be read. */
            for (size_t i = row_samples; i-- > 0;) wide[i] = bytes[i];
        }
    }

    png_destroy_read_struct(&png, &info, NULL);
    free(rows);
    out->width = width;
    out->height = height;
    out->channels = channels;
    out->bit_depth = out_depth;
    out->samples = samples;
    out->icc = icc;
    return EMU_PNG_OK;
}

/* Check the 8-byte PNG signature (spec 5.2) before creating any libpng state. */
static int shim_check_signature(shim_ctx *ctx, const uint8_t *bytes, size_t count) {
    if (count == 0) return shim_fail(ctx, EMU_PNG_ERR_NOT_PNG, "not a PNG file (file is empty)");
    if (count < 8 || png_sig_cmp(bytes, 0, 8) != 0) {
        if (count < 8 && png_sig_cmp(bytes, 0, count) == 0)
            return shim_fail(ctx, EMU_PNG_ERR_NOT_PNG, "not a PNG file (truncated after %zu bytes)", count);
        return shim_fail(ctx, EMU_PNG_ERR_NOT_PNG, "not a PNG file (no PNG signature)");
    }
    return EMU_PNG_OK;
}

static int shim_read_file(const char *path, int gray_only, emu_png_decoded *out, char *message) {
    shim_ctx ctx;
    shim_init(&ctx, message);
    if (!out) return shim_fail(&ctx, EMU_PNG_ERR_ARGUMENT, "no output structure");
    memset(out, 0, sizeof *out);
    if (!path || !path[0]) return shim_fail(&ctx, EMU_PNG_ERR_ARGUMENT, "empty input path");
    FILE *file = fopen(path, "rb");
    if (!file) return shim_fail(&ctx, EMU_PNG_ERR_OPEN, "cannot open for reading: %s", strerror(errno));
    struct stat status;
    if (fstat(fileno(file), &status) == 0 && S_ISDIR(status.st_mode)) {
        fclose(file);
        return shim_fail(&ctx, EMU_PNG_ERR_OPEN, "cannot open for reading: %s", strerror(EISDIR));
    }
    uint8_t signature[8];
    size_t count = fread(signature, 1, sizeof signature, file);
    int rc;
    if (count < sizeof signature && ferror(file))
        rc = shim_fail(&ctx, EMU_PNG_ERR_IO, "read failed: %s", strerror(errno));
    else
        rc = shim_check_signature(&ctx, signature, count);
    if (rc == EMU_PNG_OK) {
        ctx.file = file;
        rc = shim_decode(&ctx, shim_file_read, gray_only, out);
    }
    fclose(file);
    return rc;
}

static int shim_read_memory(const uint8_t *data, size_t length, int gray_only, emu_png_decoded *out,
                            char *message) {
    shim_ctx ctx;
    shim_init(&ctx, message);
    if (!out) return shim_fail(&ctx, EMU_PNG_ERR_ARGUMENT, "no output structure");
    memset(out, 0, sizeof *out);
    if (!data && length > 0) return shim_fail(&ctx, EMU_PNG_ERR_ARGUMENT, "no input buffer");
    int rc = shim_check_signature(&ctx, data, length < 8 ? length : 8);
    if (rc != EMU_PNG_OK) return rc;
    ctx.in_data = data;
    ctx.in_length = length;
    ctx.in_position = 8;
    return shim_decode(&ctx, shim_memory_read, gray_only, out);
}

int emu_png_read_rgb_file(const char *path, emu_png_decoded *out, char message[EMU_PNG_MESSAGE_SIZE]) {
    return shim_read_file(path, 0, out, message);
}

int emu_png_read_rgb_memory(const uint8_t *data, size_t length, emu_png_decoded *out,
                            char message[EMU_PNG_MESSAGE_SIZE]) {
    return shim_read_memory(data, length, 0, out, message);
}

int emu_png_read_gray_file(const char *path, emu_png_decoded *out, char message[EMU_PNG_MESSAGE_SIZE]) {
    return shim_read_file(path, 1, out, message);
}

int emu_png_read_gray_memory(const uint8_t *data, size_t length, emu_png_decoded *out,
                             char message[EMU_PNG_MESSAGE_SIZE]) {
    return shim_read_memory(data, length, 1, out, message);
}

void emu_png_free(void *pointer) { free(pointer); }
