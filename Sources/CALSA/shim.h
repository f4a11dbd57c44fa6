#include <alsa/asoundlib.h>

/* libasound prints its own diagnostics to stderr; Loa reports the error code itself, in one line. */
static void loa_alsa_quiet_handler(const char *file, int line, const char *function, int err, const char *fmt, ...) {
    (void)file; (void)line; (void)function; (void)err; (void)fmt;
}

static inline void loa_alsa_silence_library_errors(void) {
    snd_lib_error_set_handler(loa_alsa_quiet_handler);
}
