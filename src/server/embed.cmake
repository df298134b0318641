# Writes OUT, a C file defining NAME (a NUL-terminated char array) and
# NAME_len with the bytes of IN: how docs/openapi.json is compiled into the
# server. Run as cmake -DIN=... -DOUT=... -DNAME=... -P embed.cmake.
file(READ ${IN} hex HEX)
string(LENGTH "${hex}" n)
math(EXPR len "${n} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n" bytes "${bytes}")
file(WRITE ${OUT}.tmp
"/* Generated from ${IN} by src/server/embed.cmake: do not edit. */\n"
"#include <stddef.h>\n"
"extern const char ${NAME}[];\n"
"extern const size_t ${NAME}_len;\n"
"const char ${NAME}[] = {\n${bytes}0x00};\n"
"const size_t ${NAME}_len = ${len};\n")
file(RENAME ${OUT}.tmp ${OUT})
