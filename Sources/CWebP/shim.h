// libwebp for Swift: the decoder config holds a union for the output buffer, which is clumsy from Swift,
// so decoding (with scaling, into a caller-provided RGBA buffer) is one C call.
#ifndef FLYWHEEL_CWEBP_SHIM_H
#define FLYWHEEL_CWEBP_SHIM_H
#include <stddef.h>
#include <stdint.h>
#include <webp/decode.h>

/// Width, height and animation flag from the first bytes of a file (the header is in the first ~30 bytes).
/// Returns a VP8StatusCode (VP8_STATUS_NOT_ENOUGH_DATA when `size` is too short to tell).
static inline int flywheel_webp_probe(const uint8_t *data, size_t size, int *width, int *height, int *animated, int *alpha) {
    WebPBitstreamFeatures f;
    VP8StatusCode s = WebPGetFeatures(data, size, &f);
    if (s != VP8_STATUS_OK) return (int)s;
    *width = f.width;
    *height = f.height;
    *animated = f.has_animation;
    *alpha = f.has_alpha;
    return VP8_STATUS_OK;
}

/// Decodes the whole file in `data` to RGBA (not premultiplied) scaled to out_w x out_h (the full size
/// when they equal the image's), into `out` of `capacity` bytes. Returns a VP8StatusCode.
static inline int flywheel_webp_decode(const uint8_t *data, size_t size, int out_w, int out_h, uint8_t *out, size_t capacity) {
    WebPDecoderConfig config;
    if (!WebPInitDecoderConfig(&config)) return VP8_STATUS_INVALID_PARAM;
    VP8StatusCode s = WebPGetFeatures(data, size, &config.input);
    if (s != VP8_STATUS_OK) return (int)s;
    if ((size_t)out_w * (size_t)out_h * 4 > capacity) return VP8_STATUS_INVALID_PARAM;
    if (out_w != config.input.width || out_h != config.input.height) {
        config.options.use_scaling = 1;
        config.options.scaled_width = out_w;
        config.options.scaled_height = out_h;
    }
    config.output.colorspace = MODE_RGBA;
    config.output.is_external_memory = 1;
    config.output.u.RGBA.rgba = out;
    config.output.u.RGBA.stride = out_w * 4;
    config.output.u.RGBA.size = capacity;
    s = WebPDecode(data, size, &config);
    WebPFreeDecBuffer(&config.output);
    return (int)s;
}
#endif
