// libpng for Swift. Every call takes an open file descriptor (the caller opened it once, checked it is a
// regular file, and keeps it); the shim reads through a dup()ed stdio stream from offset 0.
//
// - `flywheel_png_probe_fd` reads the header only (simplified png_image API), so the caller can refuse or
//   downscale huge dimensions before allocating anything.
// - `flywheel_png_decode_fd` decodes at full size into a caller-provided RGBA buffer (png_image API:
//   errors come back as a return value, libpng runs its own setjmp inside).
// - `flywheel_png_decode_scaled_fd` decodes row by row with a box filter into a smaller caller-provided
//   RGBA buffer, holding one source row at a time: for images with more pixels than the caller wants to
//   allocate. It uses the classic API, whose errors longjmp, so the setjmp is here.
#ifndef FLYWHEEL_CPNG_SHIM_H
#define FLYWHEEL_CPNG_SHIM_H
#include <errno.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <png.h>

enum {
    FLYWHEEL_PNG_OK = 0,
    FLYWHEEL_PNG_ERR_HEADER = 1,   // not a PNG, bad IHDR, cut inside the header
    FLYWHEEL_PNG_ERR_DATA = 2,     // truncated or corrupt image data
    FLYWHEEL_PNG_ERR_CHANGED = 3,  // dimensions differ from the probe, or the buffer is too small
    FLYWHEEL_PNG_ERR_IO = 4,       // dup/fdopen/malloc failed
};

static inline void flywheel_png_copy_message(char *msg, size_t msglen, const char *text) {
    if (msg == NULL || msglen == 0) return;
    strncpy(msg, text, msglen - 1);
    msg[msglen - 1] = 0;
}

/// A stdio stream on a dup of `fd`, positioned at the start of the file.
static inline FILE *flywheel_png_fdopen(int fd) {
    int d = dup(fd);
    if (d < 0) return NULL;
    FILE *f = fdopen(d, "rb");
    if (f == NULL) { close(d); return NULL; }
    rewind(f);
    return f;
}

static inline int flywheel_png_probe_fd(int fd, uint32_t *width, uint32_t *height, char *msg, size_t msglen) {
    FILE *f = flywheel_png_fdopen(fd);
    if (f == NULL) { flywheel_png_copy_message(msg, msglen, strerror(errno)); return FLYWHEEL_PNG_ERR_IO; }
    png_image image;
    memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_stdio(&image, f)) {
        flywheel_png_copy_message(msg, msglen, image.message);
        fclose(f);
        return FLYWHEEL_PNG_ERR_HEADER;
    }
    *width = image.width;
    *height = image.height;
    png_image_free(&image);
    fclose(f);
    return FLYWHEEL_PNG_OK;
}

/// Full-size decode to 8-bit sRGB RGBA (not premultiplied), rows packed, into `out` of `capacity` bytes,
/// which must hold width*height*4 for the dimensions the probe returned.
static inline int flywheel_png_decode_fd(int fd, uint32_t width, uint32_t height, unsigned char *out,
                                         size_t capacity, char *msg, size_t msglen) {
    FILE *f = flywheel_png_fdopen(fd);
    if (f == NULL) { flywheel_png_copy_message(msg, msglen, strerror(errno)); return FLYWHEEL_PNG_ERR_IO; }
    png_image image;
    memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_stdio(&image, f)) {
        flywheel_png_copy_message(msg, msglen, image.message);
        fclose(f);
        return FLYWHEEL_PNG_ERR_HEADER;
    }
    image.format = PNG_FORMAT_RGBA;
    if (image.width != width || image.height != height || PNG_IMAGE_SIZE(image) > capacity) {
        png_image_free(&image);
        fclose(f);
        flywheel_png_copy_message(msg, msglen, "image changed while reading");
        return FLYWHEEL_PNG_ERR_CHANGED;
    }
    int ok = png_image_finish_read(&image, NULL, out, (png_int_32)(width * 4), NULL);
    if (!ok) flywheel_png_copy_message(msg, msglen, image.message);
    fclose(f);
    return ok ? FLYWHEEL_PNG_OK : FLYWHEEL_PNG_ERR_DATA;
}

typedef struct {
    jmp_buf jump;
    char message[200];
} flywheel_png_error;

static inline void flywheel_png_error_fn(png_structp png, png_const_charp text) {
    flywheel_png_error *e = (flywheel_png_error *)png_get_error_ptr(png);
    strncpy(e->message, text, sizeof e->message - 1);
    e->message[sizeof e->message - 1] = 0;
    longjmp(e->jump, 1);
}

/// Warnings (bad ancillary chunks and the like) are ignored: stderr is the terminal.
static inline void flywheel_png_warning_fn(png_structp png, png_const_charp text) { (void)png; (void)text; }

/// Row-by-row decode with a box filter to out_w x out_h (each at most the image's), RGBA, rows packed.
/// Interlaced images are sampled from their last Adam7 pass (every odd row, all columns), so no full-size
/// buffer is needed either. No gamma or colour-profile handling: this is a preview.
static inline int flywheel_png_decode_scaled_fd(int fd, uint32_t out_w, uint32_t out_h, unsigned char *out,
                                                size_t capacity, char *msg, size_t msglen) {
    if (out_w == 0 || out_h == 0 || (size_t)out_w * out_h * 4 > capacity) {
        flywheel_png_copy_message(msg, msglen, "output buffer too small");
        return FLYWHEEL_PNG_ERR_CHANGED;
    }
    FILE *f = flywheel_png_fdopen(fd);
    if (f == NULL) { flywheel_png_copy_message(msg, msglen, strerror(errno)); return FLYWHEEL_PNG_ERR_IO; }
    flywheel_png_error err;
    memset(&err, 0, sizeof err);
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &err, flywheel_png_error_fn, flywheel_png_warning_fn);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (png == NULL || info == NULL) {
        png_destroy_read_struct(png ? &png : NULL, NULL, NULL);
        fclose(f);
        flywheel_png_copy_message(msg, msglen, "out of memory");
        return FLYWHEEL_PNG_ERR_IO;
    }
    // Modified after setjmp and used after longjmp: volatile.
    unsigned char *volatile row = NULL;
    uint64_t *volatile sums = NULL;
    uint32_t *volatile colcount = NULL;
    volatile int code = FLYWHEEL_PNG_ERR_DATA;
    if (setjmp(err.jump)) {
        flywheel_png_copy_message(msg, msglen, err.message);
        png_destroy_read_struct(&png, &info, NULL);
        free((void *)row);
        free((void *)sums);
        free((void *)colcount);
        fclose(f);
        return code;
    }
    png_init_io(png, f);
    png_read_info(png, info);
    uint32_t w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    int color_type = png_get_color_type(png, info);
    png_set_expand(png);                       // palette -> RGB, low-bit grey -> 8 bits, tRNS -> alpha
    png_set_strip_16(png);
    if (color_type == PNG_COLOR_TYPE_GRAY || color_type == PNG_COLOR_TYPE_GRAY_ALPHA) png_set_gray_to_rgb(png);
    png_set_filler(png, 0xFF, PNG_FILLER_AFTER);  // RGB -> RGBA (no-op when there is alpha)
    int passes = png_set_interlace_handling(png);
    png_read_update_info(png, info);
    if (png_get_rowbytes(png, info) != (size_t)w * 4 || out_w > w || out_h > h) {
        code = FLYWHEEL_PNG_ERR_CHANGED;
        png_error(png, "unexpected row format or output size");
    }
    row = (unsigned char *)malloc((size_t)w * 4);
    sums = (uint64_t *)calloc((size_t)out_w * 4, sizeof(uint64_t));
    colcount = (uint32_t *)calloc(out_w, sizeof(uint32_t));
    if (row == NULL || sums == NULL || colcount == NULL) { code = FLYWHEEL_PNG_ERR_IO; png_error(png, "out of memory"); }
    for (uint32_t x = 0; x < w; x++) colcount[(uint64_t)x * out_w / w]++;
    for (int pass = 0; pass < passes; pass++) {
        int last = pass == passes - 1;
        uint32_t band_rows = 0;
        for (uint32_t y = 0; y < h; y++) {
            png_read_row(png, row, NULL);
            if (!last) continue;
            if (passes == 1 || (y & 1)) {
                for (uint32_t x = 0; x < w; x++) {
                    uint64_t *s = sums + (size_t)((uint64_t)x * out_w / w) * 4;
                    const unsigned char *p = row + (size_t)x * 4;
                    s[0] += p[0]; s[1] += p[1]; s[2] += p[2]; s[3] += p[3];
                }
                band_rows++;
            }
            uint32_t oy = (uint32_t)((uint64_t)y * out_h / h);
            if (y + 1 == h || (uint64_t)(y + 1) * out_h / h != oy) {
                unsigned char *o = out + (size_t)oy * out_w * 4;
                for (uint32_t ox = 0; ox < out_w; ox++) {
                    uint64_t n = (uint64_t)colcount[ox] * band_rows;
                    for (int c = 0; c < 4; c++) {
                        if (n) o[ox * 4 + c] = (unsigned char)((sums[(size_t)ox * 4 + c] + n / 2) / n);
                        else o[ox * 4 + c] = oy > 0 ? o[ox * 4 + c - (size_t)out_w * 4] : (c == 3 ? 255 : 0);
                    }
                }
                memset((void *)sums, 0, (size_t)out_w * 4 * sizeof(uint64_t));
                band_rows = 0;
            }
        }
    }
    png_destroy_read_struct(&png, &info, NULL);
    free((void *)row);
    free((void *)sums);
    free((void *)colcount);
    fclose(f);
    return FLYWHEEL_PNG_OK;
}
#endif
