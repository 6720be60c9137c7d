/*
 * jpegshim.h — a small C boundary around libjpeg(-turbo) for EmulsionIO's JPEG writer.
 *
 * What: baseline 8-bit RGB JPEG compression, streamed: begin (header, ICC profile as APP2 markers,
 * Exif as APP1, a comment as COM), then rows in order, then finish; the compressed bytes go to a
 * caller's write function as they are produced, so no whole file is held in memory.
 * Why: libjpeg reports errors by calling error_exit, which by default exits the process; here it
 * longjmps back into the shim function that made the call (a longjmp never crosses Swift frames),
 * which returns EMU_JPEG_ERR_* and a one-line reason in a caller-provided
 * char[EMU_JPEG_MESSAGE_SIZE]. A write function that fails stops the compression the same way.
 * Reference: ITU-T T.81 | ISO/IEC 10918-1 (JPEG), JFIF 1.02, ICC.1:2022 Annex B.4 (embedding ICC
 * profiles in JPEG), CIPA DC-008 (Exif APP1), libjpeg's libjpeg.txt.
 *
 * Rows are interleaved RGB uint16_t samples, each 0...255, `width * 3` per row.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EMU_JPEG_MESSAGE_SIZE 256

enum {
    EMU_JPEG_OK = 0,
    EMU_JPEG_ERR_ARGUMENT = 1,  /* invalid size, quality, or marker too long */
    EMU_JPEG_ERR_WRITE = 2,     /* the write function reported a failure */
    EMU_JPEG_ERR_LIBJPEG = 3,   /* libjpeg reported an error */
    EMU_JPEG_ERR_NO_MEMORY = 4
};

/** Called with each piece of the file in order; returns 0, or non-zero to stop the compression. */
typedef int (*emu_jpeg_write_fn)(void *context, const uint8_t *bytes, size_t count);

typedef struct emu_jpeg_encoder emu_jpeg_encoder;

/**
 * Starts a file: `quality` 1...100 (libjpeg's scale), `full_chroma` non-zero for 4:4:4, else
 * 4:2:0; `optimize` non-zero for Huffman tables fitted to the image (smaller files, but libjpeg
 * then holds every DCT coefficient until the end: 2 bytes per sample kept). `icc` (may be NULL) is split over APP2 "ICC_PROFILE" markers; `exif_tiff` (may be NULL) is
 * a TIFF-structured Exif block written as APP1 after "Exif\0\0" (at most 65 527 bytes); `xmp` (may be
 * NULL) an XMP packet written as APP1 after "http://ns.adobe.com/xap/1.0/\0" (at most 65 504 bytes); `comment`
 * (may be NULL) is a COM marker (at most 65 533 bytes). On success *out holds the encoder, which
 * emu_jpeg_finish or emu_jpeg_abort releases.
 */
int emu_jpeg_begin(emu_jpeg_encoder **out, int width, int height, int quality, int full_chroma, int optimize,
                   const uint8_t *icc, size_t icc_size, const uint8_t *exif_tiff, size_t exif_size,
                   const uint8_t *xmp, size_t xmp_size, const uint8_t *comment, size_t comment_size,
                   emu_jpeg_write_fn write, void *context, char *message);

/** Compresses the next `count` rows. On failure the encoder is released. */
int emu_jpeg_write_rows(emu_jpeg_encoder *encoder, const uint16_t *rows, int count, char *message);

/** Ends the file (all rows written) and releases the encoder, whatever the result. */
int emu_jpeg_finish(emu_jpeg_encoder *encoder, char *message);

/** Releases an encoder without ending its file (after a failure on the caller's side). */
void emu_jpeg_abort(emu_jpeg_encoder *encoder);

/** A decoded JPEG: 8-bit RGB, 3 bytes per pixel, rows top to bottom; its ICC profile when it has one. */
typedef struct {
    uint8_t *pixels;
    uint32_t width, height;
    uint8_t *icc;
    size_t icc_size;
} emu_jpeg_image;

/**
 * Decodes the JPEG in `data` (baseline or progressive; grey or YCbCr, converted to RGB by libjpeg)
 * into `out`, with the ICC profile its APP2 markers carry (reassembled by libjpeg). CMYK and YCCK
 * files, images above `max_pixels` and damaged data fail with a one-line message. On success
 * release `out` with emu_jpeg_image_free.
 */
int emu_jpeg_decode(const uint8_t *data, size_t size, uint64_t max_pixels, emu_jpeg_image *out, char *message);

/** Releases what emu_jpeg_decode allocated (a zeroed image is fine). */
void emu_jpeg_image_free(emu_jpeg_image *image);

#ifdef __cplusplus
}
#endif
