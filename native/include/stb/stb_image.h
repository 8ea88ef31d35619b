/* Hark shim for ollama's mtmd-helper.cpp: Debian's libstb-dev header, with the implementation kept
 * static to that translation unit so it cannot clash with another copy. */
#define STB_IMAGE_STATIC
#include </usr/include/stb/stb_image.h>
