// libjpeg(-turbo) for Swift. libjpeg reports fatal errors by calling error_exit, whose default prints to
// stderr and calls exit(); the only way back is longjmp, which Swift cannot do. So the whole decode runs
// here, in C, under setjmp, and returns an error code plus libjpeg's one-line message.
//
// Two calls, each on an open file descriptor the caller keeps (read through a dup()ed stdio stream from
// offset 0): `flywheel_jpeg_probe_fd` reads the header (dimensions, colour space, EXIF orientation)
// without allocating pixel memory; the caller then picks a scale (n/8) and allocates the output, and
// `flywheel_jpeg_decode_fd` decodes into that caller-provided RGBA buffer, checking it is large enough.
#ifndef FLYWHEEL_CJPEG_SHIM_H
#define FLYWHEEL_CJPEG_SHIM_H
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <setjmp.h>
#include <unistd.h>
#include <jpeglib.h>
#include <jerror.h>

enum {
    FLYWHEEL_JPEG_OK = 0,
    FLYWHEEL_JPEG_ERR_OPEN = 1,       // dup/fdopen failed (errno in msg)
    FLYWHEEL_JPEG_ERR_CORRUPT = 2,    // libjpeg error_exit: msg holds its message
    FLYWHEEL_JPEG_ERR_TRUNCATED = 3,  // premature end of data (libjpeg only warns and pads with grey)
    FLYWHEEL_JPEG_ERR_MEMORY = 4,     // would need more than max_memory (e.g. a huge progressive JPEG)
    FLYWHEEL_JPEG_ERR_BUFFER = 5,     // output buffer too small for the scaled size (file changed?)
};

typedef struct {
    int width, height;        // as stored (before EXIF orientation)
    int components;
    int color_space;          // J_COLOR_SPACE of the file
    int progressive;
    int orientation;          // EXIF orientation 1-8 (1 when absent or unreadable)
} flywheel_jpeg_info;

typedef struct {
    struct jpeg_error_mgr pub;  // must be first: libjpeg passes &pub as cinfo->err
    jmp_buf jump;
    int truncated;
    char message[JMSG_LENGTH_MAX];
} flywheel_jpeg_error;

static inline void flywheel_jpeg_error_exit(j_common_ptr cinfo) {
    flywheel_jpeg_error *e = (flywheel_jpeg_error *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, e->message);
    longjmp(e->jump, 1);
}

/// Warnings (level -1) and traces: never printed (stderr is the terminal). Only premature ends matter:
/// libjpeg pads missing data with grey and carries on, which would preview as a half-grey image.
static inline void flywheel_jpeg_emit_message(j_common_ptr cinfo, int msg_level) {
    flywheel_jpeg_error *e = (flywheel_jpeg_error *)cinfo->err;
    if (msg_level < 0) {
        cinfo->err->num_warnings++;
        // JWRN_JPEG_EOF: the file ends early; JWRN_HIT_MARKER: the entropy-coded data ends early (a
        // marker such as EOI came first, e.g. a header claiming more rows than the data holds).
        if (cinfo->err->msg_code == JWRN_JPEG_EOF || cinfo->err->msg_code == JWRN_HIT_MARKER) e->truncated = 1;
    }
}

static inline void flywheel_jpeg_output_message(j_common_ptr cinfo) { (void)cinfo; }

static inline void flywheel_jpeg_copy_message(char *msg, size_t msglen, const char *text) {
    if (msg == NULL || msglen == 0) return;
    strncpy(msg, text, msglen - 1);
    msg[msglen - 1] = 0;
}

static inline uint16_t flywheel_jpeg_u16(const unsigned char *p, int le) {
    return le ? (uint16_t)(p[0] | p[1] << 8) : (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t flywheel_jpeg_u32(const unsigned char *p, int le) {
    return le ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24
              : (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/// The EXIF orientation tag (0x0112) from an APP1 "Exif" payload; 1 if absent or malformed.
static inline int flywheel_jpeg_exif_orientation(const unsigned char *d, unsigned int len) {
    if (len < 14 || memcmp(d, "Exif\0\0", 6) != 0) return 1;
    const unsigned char *t = d + 6;
    unsigned int tlen = len - 6;
    int le;
    if (t[0] == 'I' && t[1] == 'I') le = 1;
    else if (t[0] == 'M' && t[1] == 'M') le = 0;
    else return 1;
    if (flywheel_jpeg_u16(t + 2, le) != 42) return 1;
    uint32_t ifd = flywheel_jpeg_u32(t + 4, le);
    if (ifd > tlen || tlen - ifd < 2) return 1;
    unsigned int n = flywheel_jpeg_u16(t + ifd, le);
    for (unsigned int i = 0; i < n; i++) {
        uint32_t off = ifd + 2 + 12 * i;
        if (off > tlen || tlen - off < 12) return 1;
        if (flywheel_jpeg_u16(t + off, le) == 0x0112) {
            int v = flywheel_jpeg_u16(t + off + 8, le);
            return v >= 1 && v <= 8 ? v : 1;
        }
    }
    return 1;
}

static inline void flywheel_jpeg_setup(struct jpeg_decompress_struct *cinfo, flywheel_jpeg_error *err) {
    memset(err, 0, sizeof *err);
    cinfo->err = jpeg_std_error(&err->pub);
    err->pub.error_exit = flywheel_jpeg_error_exit;
    err->pub.emit_message = flywheel_jpeg_emit_message;
    err->pub.output_message = flywheel_jpeg_output_message;
}

/// A stdio stream on a dup of `fd`, positioned at the start of the file.
static inline FILE *flywheel_jpeg_fdopen(int fd) {
    int d = dup(fd);
    if (d < 0) return NULL;
    FILE *f = fdopen(d, "rb");
    if (f == NULL) { close(d); return NULL; }
    rewind(f);
    return f;
}

/// Reads the header only. Returns FLYWHEEL_JPEG_OK or an error code with a message in `msg`.
static inline int flywheel_jpeg_probe_fd(int fd, flywheel_jpeg_info *info, char *msg, size_t msglen) {
    struct jpeg_decompress_struct cinfo;
    flywheel_jpeg_error err;
    FILE *file = flywheel_jpeg_fdopen(fd);
    if (file == NULL) { flywheel_jpeg_copy_message(msg, msglen, strerror(errno)); return FLYWHEEL_JPEG_ERR_OPEN; }
    flywheel_jpeg_setup(&cinfo, &err);
    if (setjmp(err.jump)) {
        flywheel_jpeg_copy_message(msg, msglen, err.message);
        jpeg_destroy_decompress(&cinfo);
        fclose(file);
        return FLYWHEEL_JPEG_ERR_CORRUPT;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_stdio_src(&cinfo, file);
    jpeg_save_markers(&cinfo, JPEG_APP0 + 1, 0xFFFF);
    jpeg_read_header(&cinfo, TRUE);
    info->width = (int)cinfo.image_width;
    info->height = (int)cinfo.image_height;
    info->components = cinfo.num_components;
    info->color_space = (int)cinfo.jpeg_color_space;
    info->progressive = cinfo.progressive_mode ? 1 : 0;
    info->orientation = 1;
    for (jpeg_saved_marker_ptr m = cinfo.marker_list; m != NULL; m = m->next) {
        if (m->marker == JPEG_APP0 + 1) {
            int o = flywheel_jpeg_exif_orientation(m->data, m->data_length);
            if (o != 1) { info->orientation = o; break; }
        }
    }
    int truncated = err.truncated;
    jpeg_destroy_decompress(&cinfo);
    fclose(file);
    if (truncated) { flywheel_jpeg_copy_message(msg, msglen, "premature end of JPEG file"); return FLYWHEEL_JPEG_ERR_TRUNCATED; }
    return FLYWHEEL_JPEG_OK;
}

/// The output size libjpeg produces at scale num/8 (jdiv_round_up, as jpeg_calc_output_dimensions does).
static inline void flywheel_jpeg_scaled_size(int width, int height, int num, int *out_w, int *out_h) {
    *out_w = (int)(((long)width * num + 7) / 8);
    *out_h = (int)(((long)height * num + 7) / 8);
}

/// Decodes at scale `scale_num`/8 (1...8) into `out` (RGBA, 4 bytes a pixel, rows packed) of `capacity`
/// bytes; `*out_w`, `*out_h` receive the decoded size. `max_memory` caps libjpeg's own working memory
/// (whole-image coefficient buffers of progressive files): above it the decode fails with
/// FLYWHEEL_JPEG_ERR_MEMORY instead of allocating. Fast DCT and plain upsampling: this is a preview.
static inline int flywheel_jpeg_decode_fd(int fd, int scale_num, unsigned char *out, size_t capacity,
                                          int *out_w, int *out_h, long max_memory, char *msg, size_t msglen) {
    struct jpeg_decompress_struct cinfo;
    flywheel_jpeg_error err;
    FILE *file = flywheel_jpeg_fdopen(fd);
    if (file == NULL) { flywheel_jpeg_copy_message(msg, msglen, strerror(errno)); return FLYWHEEL_JPEG_ERR_OPEN; }
    flywheel_jpeg_setup(&cinfo, &err);
    if (setjmp(err.jump)) {
        int code = err.pub.msg_code == JERR_NO_BACKING_STORE || err.pub.msg_code == JERR_OUT_OF_MEMORY
            ? FLYWHEEL_JPEG_ERR_MEMORY : FLYWHEEL_JPEG_ERR_CORRUPT;
        flywheel_jpeg_copy_message(msg, msglen, err.message);
        jpeg_destroy_decompress(&cinfo);
        fclose(file);
        return code;
    }
    jpeg_create_decompress(&cinfo);
    if (max_memory > 0) cinfo.mem->max_memory_to_use = max_memory;
    jpeg_stdio_src(&cinfo, file);
    jpeg_read_header(&cinfo, TRUE);
    int cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
    cinfo.out_color_space = cmyk ? JCS_CMYK : JCS_EXT_RGBA;
    cinfo.scale_num = (unsigned int)(scale_num < 1 ? 1 : scale_num > 8 ? 8 : scale_num);
    cinfo.scale_denom = 8;
    cinfo.dct_method = JDCT_IFAST;
    cinfo.do_fancy_upsampling = FALSE;
    jpeg_calc_output_dimensions(&cinfo);
    size_t stride = (size_t)cinfo.output_width * 4;
    if (cinfo.output_components != 4 || (size_t)cinfo.output_height > capacity / (stride ? stride : 1)) {
        flywheel_jpeg_copy_message(msg, msglen, "output buffer too small");
        jpeg_destroy_decompress(&cinfo);
        fclose(file);
        return FLYWHEEL_JPEG_ERR_BUFFER;
    }
    jpeg_start_decompress(&cinfo);
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = out + (size_t)cinfo.output_scanline * stride;
        jpeg_read_scanlines(&cinfo, &row, 1);
        if (cmyk) {
            // Adobe writes CMYK inverted; plain CMYK is not. Naive CMYK -> RGB is enough for a preview.
            int inverted = cinfo.saw_Adobe_marker;
            for (JDIMENSION x = 0; x < cinfo.output_width; x++) {
                unsigned char *p = row + 4 * x;
                int c = p[0], m = p[1], y = p[2], k = p[3];
                if (!inverted) { c = 255 - c; m = 255 - m; y = 255 - y; k = 255 - k; }
                p[0] = (unsigned char)(c * k / 255);
                p[1] = (unsigned char)(m * k / 255);
                p[2] = (unsigned char)(y * k / 255);
                p[3] = 255;
            }
        }
    }
    *out_w = (int)cinfo.output_width;
    *out_h = (int)cinfo.output_height;
    int truncated = err.truncated;
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    fclose(file);
    if (truncated) { flywheel_jpeg_copy_message(msg, msglen, "premature end of JPEG file"); return FLYWHEEL_JPEG_ERR_TRUNCATED; }
    return FLYWHEEL_JPEG_OK;
}

/// Encodes RGB (3 bytes a pixel, rows packed) to a JPEG file, baseline or progressive: for benchmarks
/// and test fixtures.
static inline int flywheel_jpeg_encode_rgb(const char *path, const unsigned char *rgb, int width, int height,
                                           int quality, int progressive, char *msg, size_t msglen) {
    struct jpeg_compress_struct cinfo;
    flywheel_jpeg_error err;
    FILE *volatile file = fopen(path, "wb");
    if (file == NULL) { flywheel_jpeg_copy_message(msg, msglen, strerror(errno)); return FLYWHEEL_JPEG_ERR_OPEN; }
    memset(&err, 0, sizeof err);
    cinfo.err = jpeg_std_error(&err.pub);
    err.pub.error_exit = flywheel_jpeg_error_exit;
    err.pub.emit_message = flywheel_jpeg_emit_message;
    err.pub.output_message = flywheel_jpeg_output_message;
    if (setjmp(err.jump)) {
        flywheel_jpeg_copy_message(msg, msglen, err.message);
        jpeg_destroy_compress(&cinfo);
        fclose(file);
        return FLYWHEEL_JPEG_ERR_CORRUPT;
    }
    jpeg_create_compress(&cinfo);
    jpeg_stdio_dest(&cinfo, file);
    cinfo.image_width = (JDIMENSION)width;
    cinfo.image_height = (JDIMENSION)height;
    cinfo.input_components = 3;
    cinfo.in_color_space = JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality, TRUE);
    if (progressive) jpeg_simple_progression(&cinfo);
    jpeg_start_compress(&cinfo, TRUE);
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = (JSAMPROW)(rgb + (size_t)cinfo.next_scanline * (size_t)width * 3);
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    fclose(file);
    return FLYWHEEL_JPEG_OK;
}
#endif
