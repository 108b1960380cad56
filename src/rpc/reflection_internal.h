/* Server reflection (reflection.c answers, reflection_stream.c runs the
 * bidirectional stream). Private to src/rpc. v1 and v1alpha share one wire
 * format, so both are served with the v1 messages. */
#ifndef GRADING_REFLECTION_INTERNAL_H
#define GRADING_REFLECTION_INTERNAL_H

#include <stdbool.h>
#include <stdio.h>

#include "grpc/reflection/v1/reflection.pb-c.h"

/* One answer; its pointers are borrowed from the request and the index, or
 * owned here (freed by rpc_reflection_answer_destroy). */
typedef struct {
    Grpc__Reflection__V1__ServerReflectionResponse resp;
    Grpc__Reflection__V1__FileDescriptorResponse fdr;
    Grpc__Reflection__V1__ListServiceResponse list;
    Grpc__Reflection__V1__ExtensionNumberResponse ext;
    Grpc__Reflection__V1__ErrorResponse error;
    char error_text[300];
    ProtobufCBinaryData *files;
    Grpc__Reflection__V1__ServiceResponse *services;
    Grpc__Reflection__V1__ServiceResponse **service_ptrs;
    char **names;
    size_t nnames;
} rpc_reflection_answer_t;

/* The embedded descriptor set parsed (once). */
bool rpc_reflection_ready(void);
/* Fills *a with the answer to req (never fails: errors are an ErrorResponse). */
void rpc_reflection_answer(const Grpc__Reflection__V1__ServerReflectionRequest *req, rpc_reflection_answer_t *a);
void rpc_reflection_answer_destroy(rpc_reflection_answer_t *a);

#endif
