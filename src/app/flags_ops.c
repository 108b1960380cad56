/* gradingd's operations flags: the admin server, the log, restore. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "flags.h"
#include "grading/admin.h"
#include "grading/log.h"

enum { ADMIN, ADMIN_PORTFILE, LIVENESS, LOGFMT, LOGLEVEL, ACCESS, ACCESS_RATE, RESTORE, REMOTE_BACKUP };

bool app_flags_parse_ops(int which, const char *arg, app_flags_t *f, char *err, size_t errlen)
{
    switch (which) {
    case ADMIN:
        f->admin_listen = strcmp(arg, "off") == 0 ? NULL : arg;
        if (f->admin_listen && !grading_admin_listen_ok(arg)) {
            snprintf(err, errlen,
                     "--admin-listen must be HOST:PORT with a numeric address (127.0.0.1:9464, [::1]:9464) or off, got \"%s\"",
                     arg);
            return false;
        }
        return true;
    case ADMIN_PORTFILE:
        f->admin_port_file = arg;
        return true;
    case LIVENESS: {
        char *end;
        errno = 0;
        long long v = strtoll(arg, &end, 10);
        if (errno || end == arg || *end || v < 100 || v > 3600000) {
            snprintf(err, errlen, "--liveness-timeout-ms must be 100..3600000 milliseconds, got \"%s\"", arg);
            return false;
        }
        f->liveness_timeout_ms = v;
        return true;
    }
    case LOGFMT: {
        grading_log_format_t v;
        if (!grading_log_format_parse(arg, &v)) {
            snprintf(err, errlen, "--log-format must be text or json, got \"%s\"", arg);
            return false;
        }
        f->log_format = (int)v;
        return true;
    }
    case LOGLEVEL: {
        grading_log_level_t v;
        if (!grading_log_level_parse(arg, &v)) {
            snprintf(err, errlen, "--log-level must be debug, info, warn or error, got \"%s\"", arg);
            return false;
        }
        f->log_level = (int)v;
        return true;
    }
    case ACCESS:
        f->access_log = true;
        return true;
    case ACCESS_RATE: {
        char *end;
        errno = 0;
        double v = strtod(arg, &end);
        if (errno || end == arg || *end || !(v >= 0 && v <= 1)) {
            snprintf(err, errlen, "--access-log-sample must be a number from 0 to 1, got \"%s\"", arg);
            return false;
        }
        f->access_log_sample = v;
        return true;
    }
    case RESTORE:
        if (!arg[0]) {
            snprintf(err, errlen, "--restore needs a backup file");
            return false;
        }
        f->restore = arg;
        return true;
    case REMOTE_BACKUP:
        f->admin_remote_backup = true;
        return true;
    }
    snprintf(err, errlen, "unknown flag");
    return false;
}
