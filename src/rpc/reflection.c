/* gRPC server reflection: the answers, from the FileDescriptorSet compiled
 * into the binary (CMakeLists.txt: protoc --descriptor_set_out, embedded by
 * cmake/embed_bytes.cmake). Generic over the set: it knows files, their
 * imports and the symbols they define, nothing about our services. The
 * set is parsed once, on first use; answers are built per request. */
#include "reflection_internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "google/protobuf/descriptor.pb-c.h"

extern const unsigned char grading_descriptor_set[];
extern const size_t grading_descriptor_set_len;

#define STATUS_INVALID_ARGUMENT 3
#define STATUS_NOT_FOUND 5

typedef struct {
    const Google__Protobuf__FileDescriptorProto *fd;
    ProtobufCBinaryData bytes;   /* the file, serialized */
} refl_file_t;

static struct {
    Google__Protobuf__FileDescriptorSet *set;
    refl_file_t *files;
    size_t n;
    bool ok;
} idx;
static pthread_once_t idx_once = PTHREAD_ONCE_INIT;

static void idx_build(void)
{
    idx.set = google__protobuf__file_descriptor_set__unpack(NULL, grading_descriptor_set_len,
                                                           grading_descriptor_set);
    if (!idx.set) return;
    idx.files = calloc(idx.set->n_file ? idx.set->n_file : 1, sizeof *idx.files);
    if (!idx.files) return;
    for (size_t i = 0; i < idx.set->n_file; i++) {
        const Google__Protobuf__FileDescriptorProto *fd = idx.set->file[i];
        size_t len = protobuf_c_message_get_packed_size(&fd->base);
        uint8_t *buf = malloc(len ? len : 1);
        if (!buf) return;
        protobuf_c_message_pack(&fd->base, buf);
        idx.files[i] = (refl_file_t){fd, {len, buf}};
        idx.n = i + 1;
    }
    idx.ok = true;
}

bool rpc_reflection_ready(void)
{
    pthread_once(&idx_once, idx_build);
    return idx.ok;
}

/* ---- symbols ---- */

/* Does name equal prefix + "." + leaf (prefix may be "")? */
static bool qualified_is(const char *name, const char *prefix, const char *leaf)
{
    size_t pl = prefix ? strlen(prefix) : 0;
    if (pl) {
        if (strncmp(name, prefix, pl) != 0 || name[pl] != '.') return false;
        name += pl + 1;
    }
    return strcmp(name, leaf) == 0;
}

static bool in_enum(const char *sym, const char *scope, const Google__Protobuf__EnumDescriptorProto *e)
{
    if (qualified_is(sym, scope, e->name)) return true;
    /* enum values live in the enum's enclosing scope */
    for (size_t i = 0; i < e->n_value; i++)
        if (qualified_is(sym, scope, e->value[i]->name)) return true;
    return false;
}

static bool in_message(const char *sym, const char *scope, const Google__Protobuf__DescriptorProto *m)
{
    if (qualified_is(sym, scope, m->name)) return true;
    size_t sl = scope ? strlen(scope) : 0;
    char *inner = malloc(sl + strlen(m->name) + 2);
    if (!inner) return false;
    if (sl) sprintf(inner, "%s.%s", scope, m->name);
    else strcpy(inner, m->name);
    bool found = false;
    for (size_t i = 0; i < m->n_field && !found; i++) found = qualified_is(sym, inner, m->field[i]->name);
    for (size_t i = 0; i < m->n_nested_type && !found; i++) found = in_message(sym, inner, m->nested_type[i]);
    for (size_t i = 0; i < m->n_enum_type && !found; i++) found = in_enum(sym, inner, m->enum_type[i]);
    free(inner);
    return found;
}

static bool file_defines(const Google__Protobuf__FileDescriptorProto *fd, const char *sym)
{
    const char *pkg = fd->package;
    for (size_t i = 0; i < fd->n_service; i++) {
        const Google__Protobuf__ServiceDescriptorProto *s = fd->service[i];
        if (qualified_is(sym, pkg, s->name)) return true;
        size_t pl = pkg ? strlen(pkg) : 0;
        /* pkg.Service.Method */
        for (size_t m = 0; m < s->n_method; m++) {
            const char *p = sym;
            if (pl) {
                if (strncmp(p, pkg, pl) != 0 || p[pl] != '.') continue;
                p += pl + 1;
            }
            size_t nl = strlen(s->name);
            if (strncmp(p, s->name, nl) == 0 && p[nl] == '.' && strcmp(p + nl + 1, s->method[m]->name) == 0)
                return true;
        }
    }
    for (size_t i = 0; i < fd->n_message_type; i++)
        if (in_message(sym, pkg, fd->message_type[i])) return true;
    for (size_t i = 0; i < fd->n_enum_type; i++)
        if (in_enum(sym, pkg, fd->enum_type[i])) return true;
    return false;
}

static const Google__Protobuf__DescriptorProto *find_message(const char *sym)
{
    for (size_t f = 0; f < idx.n; f++) {
        const Google__Protobuf__FileDescriptorProto *fd = idx.files[f].fd;
        for (size_t i = 0; i < fd->n_message_type; i++)
            if (qualified_is(sym, fd->package, fd->message_type[i]->name)) return fd->message_type[i];
    }
    return NULL;
}

static int file_index_by_name(const char *name)
{
    for (size_t f = 0; f < idx.n; f++)
        if (idx.files[f].fd->name && strcmp(idx.files[f].fd->name, name) == 0) return (int)f;
    return -1;
}

static int file_index_by_symbol(const char *sym)
{
    for (size_t f = 0; f < idx.n; f++)
        if (file_defines(idx.files[f].fd, sym)) return (int)f;
    return -1;
}

/* ---- answers ---- */

/* The file and, after it, every file it imports (transitively), once. */
static bool add_with_deps(int f, bool *seen, ProtobufCBinaryData *out, size_t *n)
{
    if (f < 0 || seen[f]) return true;
    seen[f] = true;
    out[(*n)++] = idx.files[f].bytes;   /* borrowed from the index */
    const Google__Protobuf__FileDescriptorProto *fd = idx.files[f].fd;
    for (size_t i = 0; i < fd->n_dependency; i++)
        if (!add_with_deps(file_index_by_name(fd->dependency[i]), seen, out, n)) return false;
    return true;
}

static void set_error(rpc_reflection_answer_t *a, int code, const char *fmt, const char *arg)
{
    a->resp.message_response_case = GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_ERROR_RESPONSE;
    a->resp.error_response = &a->error;
    a->error.error_code = code;
    snprintf(a->error_text, sizeof a->error_text, fmt, arg ? arg : "");
    a->error.error_message = a->error_text;
}

static void answer_file(rpc_reflection_answer_t *a, int f, const char *what, const char *name)
{
    if (f < 0) {
        set_error(a, STATUS_NOT_FOUND, what, name);
        return;
    }
    bool *seen = calloc(idx.n, sizeof *seen);
    a->files = calloc(idx.n, sizeof *a->files);
    if (!seen || !a->files) {
        free(seen);
        set_error(a, 8 /* RESOURCE_EXHAUSTED */, "out of memory%s", "");
        return;
    }
    size_t n = 0;
    add_with_deps(f, seen, a->files, &n);
    free(seen);
    a->resp.message_response_case =
        GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_FILE_DESCRIPTOR_RESPONSE;
    a->resp.file_descriptor_response = &a->fdr;
    a->fdr.n_file_descriptor_proto = n;
    a->fdr.file_descriptor_proto = a->files;
}

static void answer_list(rpc_reflection_answer_t *a)
{
    size_t total = 0;
    for (size_t f = 0; f < idx.n; f++) total += idx.files[f].fd->n_service;
    a->services = calloc(total ? total : 1, sizeof *a->services);
    a->service_ptrs = calloc(total ? total : 1, sizeof *a->service_ptrs);
    a->names = calloc(total ? total : 1, sizeof *a->names);
    if (!a->services || !a->service_ptrs || !a->names) {
        set_error(a, 8, "out of memory%s", "");
        return;
    }
    size_t k = 0;
    for (size_t f = 0; f < idx.n; f++) {
        const Google__Protobuf__FileDescriptorProto *fd = idx.files[f].fd;
        for (size_t i = 0; i < fd->n_service; i++, k++) {
            const char *pkg = fd->package ? fd->package : "";
            a->names[k] = malloc(strlen(pkg) + strlen(fd->service[i]->name) + 2);
            if (!a->names[k]) {
                set_error(a, 8, "out of memory%s", "");
                return;
            }
            sprintf(a->names[k], "%s%s%s", pkg, pkg[0] ? "." : "", fd->service[i]->name);
            grpc__reflection__v1__service_response__init(&a->services[k]);
            a->services[k].name = a->names[k];
            a->service_ptrs[k] = &a->services[k];
        }
    }
    a->nnames = k;
    a->resp.message_response_case =
        GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_LIST_SERVICES_RESPONSE;
    a->resp.list_services_response = &a->list;
    a->list.n_service = k;
    a->list.service = a->service_ptrs;
}

void rpc_reflection_answer(const Grpc__Reflection__V1__ServerReflectionRequest *req, rpc_reflection_answer_t *a)
{
    memset(a, 0, sizeof *a);
    grpc__reflection__v1__server_reflection_response__init(&a->resp);
    grpc__reflection__v1__file_descriptor_response__init(&a->fdr);
    grpc__reflection__v1__list_service_response__init(&a->list);
    grpc__reflection__v1__extension_number_response__init(&a->ext);
    grpc__reflection__v1__error_response__init(&a->error);
    a->resp.valid_host = req->host ? req->host : "";
    a->resp.original_request = (Grpc__Reflection__V1__ServerReflectionRequest *)req;
    if (!rpc_reflection_ready()) {
        set_error(a, 13 /* INTERNAL */, "the embedded descriptor set does not parse%s", "");
        return;
    }
    switch (req->message_request_case) {
    case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_BY_FILENAME:
        answer_file(a, file_index_by_name(req->file_by_filename), "file \"%s\" not found", req->file_by_filename);
        break;
    case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_CONTAINING_SYMBOL:
        answer_file(a, file_index_by_symbol(req->file_containing_symbol), "symbol \"%s\" not found",
                    req->file_containing_symbol);
        break;
    case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_CONTAINING_EXTENSION:
        /* proto3 files: no extensions anywhere */
        set_error(a, STATUS_NOT_FOUND, "no extension of \"%s\"",
                  req->file_containing_extension ? req->file_containing_extension->containing_type : "");
        break;
    case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_ALL_EXTENSION_NUMBERS_OF_TYPE:
        if (!find_message(req->all_extension_numbers_of_type)) {
            set_error(a, STATUS_NOT_FOUND, "type \"%s\" not found", req->all_extension_numbers_of_type);
            break;
        }
        a->ext.base_type_name = req->all_extension_numbers_of_type;
        a->resp.message_response_case =
            GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_ALL_EXTENSION_NUMBERS_RESPONSE;
        a->resp.all_extension_numbers_response = &a->ext;
        break;
    case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_LIST_SERVICES:
        answer_list(a);
        break;
    default:
        set_error(a, STATUS_INVALID_ARGUMENT, "the request names no question%s", "");
        break;
    }
}

void rpc_reflection_answer_destroy(rpc_reflection_answer_t *a)
{
    free(a->files);
    for (size_t i = 0; a->names && i < a->nnames; i++) free(a->names[i]);
    free(a->names);
    free(a->services);
    free(a->service_ptrs);
    memset(a, 0, sizeof *a);
}
