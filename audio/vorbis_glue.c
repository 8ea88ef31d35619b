#include "vorbis_glue.h"

#include <stdlib.h>
#include <string.h>
#include <vorbis/vorbisfile.h>

// A file already in memory is read through a callback, so libvorbisfile never touches the disk
// and Go keeps the one open file handle.
struct hark_mem {
	const unsigned char *data;
	size_t len, pos;
};

static size_t hark_mem_read(void *ptr, size_t size, size_t nmemb, void *src) {
	struct hark_mem *m = src;
	if (size == 0) {
		return 0;
	}
	size_t n = (m->len - m->pos) / size;
	if (n > nmemb) {
		n = nmemb;
	}
	memcpy(ptr, m->data + m->pos, n * size);
	m->pos += n * size;
	return n;
}

int hark_vorbis_decode(const unsigned char *data, size_t len, float **out, long *frames, long *rate) {
	struct hark_mem m = {data, len, 0};
	// No seek: opened as a stream, libvorbisfile reads from the start and does not look for the
	// last page first, so a file cut short still gives the audio before the cut.
	ov_callbacks cb = {hark_mem_read, NULL, NULL, NULL};
	OggVorbis_File vf;
	*out = NULL;
	*frames = 0;
	int err = ov_open_callbacks(&m, &vf, NULL, 0, cb);
	if (err != 0) {
		return err;
	}
	vorbis_info *vi = ov_info(&vf, -1);
	if (vi == NULL || vi->channels < 1 || vi->rate < 1) {
		ov_clear(&vf);
		return OV_EBADHEADER;
	}
	*rate = vi->rate;
	long cap = 1 << 16, n = 0;
	float *buf = malloc(cap * sizeof(float));
	if (buf == NULL) {
		ov_clear(&vf);
		return HARK_VORBIS_ENOMEM;
	}
	int section = 0, rc = 0;
	for (;;) {
		float **pcm;
		long got = ov_read_float(&vf, &pcm, 4096, &section);
		if (got == 0) {
			break;
		}
		if (got == OV_HOLE) {
			continue; // a gap in the pages: what follows is still good audio
		}
		if (got < 0) {
			rc = (int)got;
			break;
		}
		// A chained file may change its channel count from one section to the next.
		int ch = ov_info(&vf, section)->channels;
		if (n + got > cap) {
			while (n + got > cap) {
				cap *= 2;
			}
			float *more = realloc(buf, cap * sizeof(float));
			if (more == NULL) {
				rc = HARK_VORBIS_ENOMEM;
				break;
			}
			buf = more;
		}
		for (long i = 0; i < got; i++) {
			float sum = 0;
			for (int c = 0; c < ch; c++) {
				sum += pcm[c][i];
			}
			buf[n + i] = sum / ch;
		}
		n += got;
	}
	ov_clear(&vf);
	*out = buf;
	*frames = n;
	return rc;
}
