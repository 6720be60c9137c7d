/* jpegshim.c — see include/jpegshim.h. Every libjpeg call sits under a setjmp in this file. */
#include "jpegshim.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

enum { OUTPUT_BUFFER_BYTES = 1 << 16 };

struct emu_jpeg_encoder {
    struct jpeg_compress_struct cinfo;
    struct jpeg_error_mgr errors;
    struct jpeg_destination_mgr destination;
    jmp_buf jump;
    int write_failed;
    char reason[JMSG_LENGTH_MAX];
    emu_jpeg_write_fn write;
    void *context;
    int width;
    JSAMPLE *row;
    JOCTET buffer[OUTPUT_BUFFER_BYTES];
};

static void say(char *message, const char *text) {
    if (message) snprintf(message, EMU_JPEG_MESSAGE_SIZE, "%s", text);
}

static void on_error(j_common_ptr cinfo) {
    struct emu_jpeg_encoder *e = (struct emu_jpeg_encoder *)cinfo->client_data;
    (*cinfo->err->format_message)(cinfo, e->reason);
    longjmp(e->jump, 1);
}

/* Warnings (e.g. a quality clamp) are not printed: the caller owns standard error. */
static void on_message(j_common_ptr cinfo) { (void)cinfo; }

static void destination_init(j_compress_ptr cinfo) {
    struct emu_jpeg_encoder *e = (struct emu_jpeg_encoder *)cinfo->client_data;
    e->destination.next_output_byte = e->buffer;
    e->destination.free_in_buffer = OUTPUT_BUFFER_BYTES;
}

static void hand_over(struct emu_jpeg_encoder *e, size_t count) {
    if (count > 0 && e->write(e->context, e->buffer, count) != 0) {
        e->write_failed = 1;
        snprintf(e->reason, sizeof e->reason, "write failed");
        longjmp(e->jump, 1);
    }
}

static boolean destination_full(j_compress_ptr cinfo) {
    struct emu_jpeg_encoder *e = (struct emu_jpeg_encoder *)cinfo->client_data;
    hand_over(e, OUTPUT_BUFFER_BYTES);
    e->destination.next_output_byte = e->buffer;
    e->destination.free_in_buffer = OUTPUT_BUFFER_BYTES;
    return TRUE;
}

static void destination_end(j_compress_ptr cinfo) {
    struct emu_jpeg_encoder *e = (struct emu_jpeg_encoder *)cinfo->client_data;
    hand_over(e, OUTPUT_BUFFER_BYTES - e->destination.free_in_buffer);
}

static void release(struct emu_jpeg_encoder *e) {
    if (!e) return;
    jpeg_destroy_compress(&e->cinfo);
    free(e->row);
    free(e);
}

/* The code and message for a longjmp that came back to an entry function; releases the encoder. */
static int failed(struct emu_jpeg_encoder *e, char *message) {
    int code = e->write_failed ? EMU_JPEG_ERR_WRITE : EMU_JPEG_ERR_LIBJPEG;
    if (message) snprintf(message, EMU_JPEG_MESSAGE_SIZE, "%s%s", e->write_failed ? "" : "libjpeg: ", e->reason);
    release(e);
    return code;
}

int emu_jpeg_begin(emu_jpeg_encoder **out, int width, int height, int quality, int full_chroma, int optimize,
                   const uint8_t *icc, size_t icc_size, const uint8_t *exif_tiff, size_t exif_size,
                   const uint8_t *xmp, size_t xmp_size, const uint8_t *comment, size_t comment_size,
                   emu_jpeg_write_fn write, void *context, char *message) {
    if (!out || !write) { say(message, "no output"); return EMU_JPEG_ERR_ARGUMENT; }
    *out = NULL;
    if (width < 1 || height < 1 || width > JPEG_MAX_DIMENSION || height > JPEG_MAX_DIMENSION) {
        say(message, "image size outside 1...65500 pixels, the most a JPEG holds");
        return EMU_JPEG_ERR_ARGUMENT;
    }
    if (quality < 1 || quality > 100) { say(message, "quality outside 1...100"); return EMU_JPEG_ERR_ARGUMENT; }
    if ((exif_tiff && exif_size > 65527) || (xmp && xmp_size > 65504) || (comment && comment_size > 65533)) {
        say(message, "Exif, XMP or comment longer than a JPEG marker holds");
        return EMU_JPEG_ERR_ARGUMENT;
    }
    struct emu_jpeg_encoder *e = calloc(1, sizeof *e);
    if (!e) { say(message, "out of memory"); return EMU_JPEG_ERR_NO_MEMORY; }
    e->row = malloc((size_t)width * 3);
    if (!e->row) { free(e); say(message, "out of memory"); return EMU_JPEG_ERR_NO_MEMORY; }
    e->write = write;
    e->context = context;
    e->width = width;
    e->cinfo.err = jpeg_std_error(&e->errors);
    e->errors.error_exit = on_error;
    e->errors.output_message = on_message;
    e->cinfo.client_data = e;
    /* Before jpeg_create_compress, which can fail too (jpeg_destroy_compress of a zeroed struct is safe). */
    if (setjmp(e->jump)) return failed(e, message);
    jpeg_create_compress(&e->cinfo);
    e->destination.init_destination = destination_init;
    e->destination.empty_output_buffer = destination_full;
    e->destination.term_destination = destination_end;
    e->cinfo.dest = &e->destination;
    e->cinfo.image_width = (JDIMENSION)width;
    e->cinfo.image_height = (JDIMENSION)height;
    e->cinfo.input_components = 3;
    e->cinfo.in_color_space = JCS_RGB;
    jpeg_set_defaults(&e->cinfo);
    jpeg_set_quality(&e->cinfo, quality, TRUE);
    e->cinfo.dct_method = JDCT_ISLOW;
    e->cinfo.optimize_coding = optimize ? TRUE : FALSE;
    if (full_chroma) {
        e->cinfo.comp_info[0].h_samp_factor = 1;
        e->cinfo.comp_info[0].v_samp_factor = 1;
    }
    /* An Exif file starts with APP1 (Exif 2.32 §4.5.4); JFIF's APP0 would come before it. */
    e->cinfo.write_JFIF_header = exif_tiff ? FALSE : TRUE;
    jpeg_start_compress(&e->cinfo, TRUE);
    if (exif_tiff) {
        static const uint8_t header[6] = { 'E', 'x', 'i', 'f', 0, 0 };
        jpeg_write_m_header(&e->cinfo, JPEG_APP0 + 1, (unsigned int)(sizeof header + exif_size));
        for (size_t i = 0; i < sizeof header; i++) jpeg_write_m_byte(&e->cinfo, header[i]);
        for (size_t i = 0; i < exif_size; i++) jpeg_write_m_byte(&e->cinfo, exif_tiff[i]);
    }
    if (xmp && xmp_size > 0) {
        /* XMP Specification Part 3 §1.1.3: APP1, the namespace and a NUL, then the packet. */
        static const char header[] = "http://ns.adobe.com/xap/1.0/";
        jpeg_write_m_header(&e->cinfo, JPEG_APP0 + 1, (unsigned int)(sizeof header + xmp_size));
        for (size_t i = 0; i < sizeof header; i++) jpeg_write_m_byte(&e->cinfo, (int)(uint8_t)header[i]);
        for (size_t i = 0; i < xmp_size; i++) jpeg_write_m_byte(&e->cinfo, xmp[i]);
    }
    if (icc && icc_size > 0) jpeg_write_icc_profile(&e->cinfo, icc, (unsigned int)icc_size);
    if (comment && comment_size > 0) jpeg_write_marker(&e->cinfo, JPEG_COM, comment, (unsigned int)comment_size);
    *out = e;
    return EMU_JPEG_OK;
}

int emu_jpeg_write_rows(emu_jpeg_encoder *e, const uint16_t *rows, int count, char *message) {
    if (!e || !rows || count < 0) { say(message, "bad rows"); return EMU_JPEG_ERR_ARGUMENT; }
    if (setjmp(e->jump)) return failed(e, message);
    size_t samples = (size_t)e->width * 3;
    for (int y = 0; y < count; y++) {
        const uint16_t *in = rows + (size_t)y * samples;
        for (size_t i = 0; i < samples; i++) e->row[i] = (JSAMPLE)(in[i] > 255 ? 255 : in[i]);
        JSAMPROW pointer = e->row;
        jpeg_write_scanlines(&e->cinfo, &pointer, 1);
    }
    return EMU_JPEG_OK;
}

int emu_jpeg_finish(emu_jpeg_encoder *e, char *message) {
    if (!e) { say(message, "no encoder"); return EMU_JPEG_ERR_ARGUMENT; }
    if (setjmp(e->jump)) return failed(e, message);
    if (e->cinfo.next_scanline < e->cinfo.image_height) {
        snprintf(e->reason, sizeof e->reason, "%u of %u rows written", e->cinfo.next_scanline, e->cinfo.image_height);
        e->write_failed = 0;
        int code = EMU_JPEG_ERR_ARGUMENT;
        if (message) snprintf(message, EMU_JPEG_MESSAGE_SIZE, "%s", e->reason);
        release(e);
        return code;
    }
    jpeg_finish_compress(&e->cinfo);
    release(e);
    return EMU_JPEG_OK;
}

void emu_jpeg_abort(emu_jpeg_encoder *e) { release(e); }

/* Decoding (emu_jpeg_decode): its own error manager, the same setjmp discipline. */
struct emu_jpeg_reader {
    struct jpeg_decompress_struct cinfo;
    struct jpeg_error_mgr errors;
    jmp_buf jump;
    char reason[JMSG_LENGTH_MAX];
};

static void on_read_error(j_common_ptr cinfo) {
    struct emu_jpeg_reader *r = (struct emu_jpeg_reader *)cinfo->client_data;
    (*cinfo->err->format_message)(cinfo, r->reason);
    longjmp(r->jump, 1);
}

/* libjpeg decodes a truncated or damaged file to the end with a warning ("Premature end of JPEG
   file") and grey where data was missing: the first warning is kept, and the decode fails. */
static void on_read_warning(j_common_ptr cinfo) {
    struct emu_jpeg_reader *r = (struct emu_jpeg_reader *)cinfo->client_data;
    if (r->reason[0] == '\0') (*cinfo->err->format_message)(cinfo, r->reason);
}

void emu_jpeg_image_free(emu_jpeg_image *image) {
    if (!image) return;
    free(image->pixels);
    free(image->icc);
    memset(image, 0, sizeof *image);
}

int emu_jpeg_decode(const uint8_t *data, size_t size, uint64_t max_pixels, emu_jpeg_image *out, char *message) {
    if (message) message[0] = '\0';
    if (!data || !out || size == 0) { say(message, "no data"); return EMU_JPEG_ERR_ARGUMENT; }
    memset(out, 0, sizeof *out);
    struct emu_jpeg_reader *r = (struct emu_jpeg_reader *)calloc(1, sizeof *r);
    if (!r) { say(message, "out of memory"); return EMU_JPEG_ERR_NO_MEMORY; }
    /* volatile: assigned between setjmp and a possible longjmp back to it. */
    uint8_t *volatile pixels = NULL;
    volatile int code = EMU_JPEG_OK;
    r->cinfo.err = jpeg_std_error(&r->errors);
    r->errors.error_exit = on_read_error;
    r->errors.output_message = on_read_warning;
    r->cinfo.client_data = r;
    /* Before jpeg_create_decompress, which can fail too; destroying a never-created (zeroed)
       decompressor is a no-op in libjpeg. */
    if (setjmp(r->jump)) {
        if (message) snprintf(message, EMU_JPEG_MESSAGE_SIZE, "libjpeg: %s", r->reason);
        code = EMU_JPEG_ERR_LIBJPEG;
        goto release;
    }
    jpeg_create_decompress(&r->cinfo);
    jpeg_mem_src(&r->cinfo, data, (unsigned long)size);
    jpeg_save_markers(&r->cinfo, JPEG_APP0 + 2, 0xFFFF);
    jpeg_read_header(&r->cinfo, TRUE);
    if (r->cinfo.jpeg_color_space == JCS_CMYK || r->cinfo.jpeg_color_space == JCS_YCCK) {
        say(message, "CMYK JPEGs are not supported (RGB or grey only)");
        code = EMU_JPEG_ERR_ARGUMENT;
        goto release;
    }
    const uint64_t w = r->cinfo.image_width, h = r->cinfo.image_height;
    if (w * h > max_pixels) {
        if (message) snprintf(message, EMU_JPEG_MESSAGE_SIZE, "%llux%llu pixels is above the limit of %llu",
                              (unsigned long long)w, (unsigned long long)h, (unsigned long long)max_pixels);
        code = EMU_JPEG_ERR_ARGUMENT;
        goto release;
    }
    JOCTET *icc = NULL;
    unsigned int icc_size = 0;
    if (jpeg_read_icc_profile(&r->cinfo, &icc, &icc_size)) {
        out->icc = icc;
        out->icc_size = icc_size;
    }
    r->cinfo.out_color_space = JCS_RGB;
    jpeg_start_decompress(&r->cinfo);
    const size_t stride = (size_t)r->cinfo.output_width * 3;
    pixels = (uint8_t *)malloc(stride * r->cinfo.output_height);
    if (!pixels) {
        say(message, "out of memory");
        code = EMU_JPEG_ERR_NO_MEMORY;
        goto release;
    }
    while (r->cinfo.output_scanline < r->cinfo.output_height) {
        JSAMPROW row = pixels + (size_t)r->cinfo.output_scanline * stride;
        jpeg_read_scanlines(&r->cinfo, &row, 1);
    }
    jpeg_finish_decompress(&r->cinfo);
    if (r->errors.num_warnings > 0) {
        if (message) snprintf(message, EMU_JPEG_MESSAGE_SIZE, "libjpeg: %s", r->reason);
        code = EMU_JPEG_ERR_LIBJPEG;
        goto release;
    }
    out->pixels = pixels;
    pixels = NULL;
    out->width = r->cinfo.output_width;
    out->height = r->cinfo.output_height;
release:
    if (code != EMU_JPEG_OK) {
        free(pixels);
        emu_jpeg_image_free(out);
    }
    jpeg_destroy_decompress(&r->cinfo);
    free(r);
    return code;
}
