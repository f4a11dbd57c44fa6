#include <alsa/asoundlib.h>

/* libasound prints its own diagnostics to stderr; Loa reports the error code itself, in one line. */
static void loa_alsa_quiet_handler(const char *file, int line, const char *function, int err, const char *fmt, ...) {
    (void)file; (void)line; (void)function; (void)err; (void)fmt;
}

static inline void loa_alsa_silence_library_errors(void) {
    snd_lib_error_set_handler(loa_alsa_quiet_handler);
}

#include <stddef.h>
#include <stdint.h>

/* Float to 16-bit, clamped. In C so the loop vectorises: comparisons that become min/max (NaN ends up at
 * full scale rather than trapping), and round-to-nearest by adding and removing 1.5 * 2^23, which leaves
 * an integral float that converts without a libm call. */
static inline void loa_float_to_s16(const float *restrict in, int16_t *restrict out, size_t count) {
    for (size_t i = 0; i < count; i++) {
        float s = in[i] * 32767.0f;
        s = s < 32767.0f ? s : 32767.0f;
        s = s > -32767.0f ? s : -32767.0f;
        s = (s + 12582912.0f) - 12582912.0f;
        out[i] = (int16_t)(int32_t)s;
    }
}
