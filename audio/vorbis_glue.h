// Glue between audio's Go code and Xiph's libvorbisfile: the only C in package audio.
#ifndef HARK_AUDIO_VORBIS_GLUE_H
#define HARK_AUDIO_VORBIS_GLUE_H

#include <stddef.h>

// hark_vorbis_decode decodes a whole Ogg Vorbis file held in data[0:len] into mono float
// samples (channels averaged) at the stream's rate. On success it returns 0, sets *out (to be
// released with free), *frames and *rate. On failure it returns libvorbisfile's error code
// (OV_ENOTVORBIS, OV_EBADHEADER, ...) or HARK_VORBIS_ENOMEM when memory ran out; *frames holds
// how many frames were decoded before a damaged page.
int hark_vorbis_decode(const unsigned char *data, size_t len, float **out, long *frames, long *rate);

// HARK_VORBIS_ENOMEM is the glue's own error code, apart from libvorbisfile's (all above -1000).
#define HARK_VORBIS_ENOMEM (-1000)

#endif
