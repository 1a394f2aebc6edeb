// libpng for Swift through its simplified API (png_image): errors come back as a return value and a
// message in the png_image (libpng runs its own setjmp inside), so no longjmp reaches Swift.
// Two calls: `flywheel_png_probe` reads the header only, so the caller can refuse huge dimensions before
// allocating; `flywheel_png_decode` reads the file again into a caller-provided RGBA buffer.
#ifndef FLYWHEEL_CPNG_SHIM_H
#define FLYWHEEL_CPNG_SHIM_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <png.h>

enum {
    FLYWHEEL_PNG_OK = 0,
    FLYWHEEL_PNG_ERR_HEADER = 1,   // begin_read failed: not a PNG, bad IHDR, cannot open
    FLYWHEEL_PNG_ERR_DATA = 2,     // finish_read failed: truncated or corrupt image data
    FLYWHEEL_PNG_ERR_CHANGED = 3,  // the file's size changed between probe and decode
};

static inline void flywheel_png_copy_message(char *msg, size_t msglen, const char *text) {
    if (msg == NULL || msglen == 0) return;
    strncpy(msg, text, msglen - 1);
    msg[msglen - 1] = 0;
}

static inline int flywheel_png_probe(const char *path, uint32_t *width, uint32_t *height, char *msg, size_t msglen) {
    png_image image;
    memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&image, path)) {
        flywheel_png_copy_message(msg, msglen, image.message);
        return FLYWHEEL_PNG_ERR_HEADER;
    }
    *width = image.width;
    *height = image.height;
    png_image_free(&image);
    return FLYWHEEL_PNG_OK;
}

/// Decodes to 8-bit sRGB RGBA (not premultiplied), rows packed, into `out` of `capacity` bytes, which must
/// hold width*height*4 for the dimensions `flywheel_png_probe` returned.
static inline int flywheel_png_decode(const char *path, uint32_t width, uint32_t height, unsigned char *out,
                                      size_t capacity, char *msg, size_t msglen) {
    png_image image;
    memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&image, path)) {
        flywheel_png_copy_message(msg, msglen, image.message);
        return FLYWHEEL_PNG_ERR_HEADER;
    }
    image.format = PNG_FORMAT_RGBA;
    if (image.width != width || image.height != height || PNG_IMAGE_SIZE(image) > capacity) {
        png_image_free(&image);
        flywheel_png_copy_message(msg, msglen, "image changed while reading");
        return FLYWHEEL_PNG_ERR_CHANGED;
    }
    if (!png_image_finish_read(&image, NULL, out, (png_int_32)(width * 4), NULL)) {
        flywheel_png_copy_message(msg, msglen, image.message);
        return FLYWHEEL_PNG_ERR_DATA;
    }
    return FLYWHEEL_PNG_OK;
}
#endif
