#include <libavformat/avformat.h>
#include <libavcodec/avcodec.h>
#include <libswresample/swresample.h>
#include <libavutil/avutil.h>
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
#include <libavutil/error.h>

// Function-like macros Swift cannot import.
static inline int loa_averror_eagain(void) { return AVERROR(EAGAIN); }
static inline int loa_averror_eof(void) { return AVERROR_EOF; }
static inline int loa_averror_exit(void) { return AVERROR_EXIT; }
static inline int loa_averror_http_not_found(void) { return AVERROR_HTTP_NOT_FOUND; }
static inline int loa_averror_http_forbidden(void) { return AVERROR_HTTP_FORBIDDEN; }
static inline int loa_averror_http_other_4xx(void) { return AVERROR_HTTP_OTHER_4XX; }
static inline int loa_averror_http_server_error(void) { return AVERROR_HTTP_SERVER_ERROR; }
static inline int loa_averror_invaliddata(void) { return AVERROR_INVALIDDATA; }
static inline int64_t loa_av_nopts_value(void) { return AV_NOPTS_VALUE; }
