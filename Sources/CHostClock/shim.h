#include <errno.h>
#include <string.h>
#include <sys/timex.h>

/* The kernel's view of the clock's discipline, read with adjtimex(2) and modes 0 (which changes nothing and
 * needs no privilege). Glibc's Swift overlay does not import <sys/timex.h>, so the struct is read here. */
typedef struct {
    int state;      /* adjtimex's return: TIME_OK … TIME_ERROR (5: unsynchronised), or -1 with `error` set */
    int status;     /* STA_* bits; STA_UNSYNC (0x40) set while no one (NTP, chrony, timesyncd) disciplines the clock */
    long maxerror;  /* microseconds: the largest error the kernel admits to */
    long esterror;  /* microseconds: the estimated error */
    int error;      /* errno when state is -1 */
} loa_clock_state;

static inline loa_clock_state loa_clock_read(void) {
    struct timex tx;
    memset(&tx, 0, sizeof tx);
    loa_clock_state out;
    out.state = adjtimex(&tx);
    out.error = out.state < 0 ? errno : 0;
    out.status = tx.status;
    out.maxerror = tx.maxerror;
    out.esterror = tx.esterror;
    return out;
}

static const int loa_sta_unsync = STA_UNSYNC;
