# cmake -DIN=file -DOUT=file.c -DNAME=symbol -P embed_bytes.cmake
# Writes a C file defining `const unsigned char NAME[]` with IN's bytes and
# `const size_t NAME_len`, so a binary file (a FileDescriptorSet) is part of
# the program without xxd or assembler tricks.
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" hexlen)
math(EXPR len "${hexlen} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," body "${hex}")
string(REGEX REPLACE "((0x..,){16})" "\\1\n    " body "${body}")
file(WRITE "${OUT}" "/* Generated from ${IN} by cmake/embed_bytes.cmake; do not edit. */\n"
  "#include <stddef.h>\n"
  "const unsigned char ${NAME}[] = {\n    ${body}\n};\n"
  "const size_t ${NAME}_len = ${len};\n")
