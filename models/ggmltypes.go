package models

import (
	"fmt"

	"hark/internal/ggml"
)

// tensorBytes returns the stored size of a tensor of type t with dimensions ne, or an error
// for an unknown type or a shape that does not fit the type's blocks.
func tensorBytes(t uint32, ne []int64) (int64, error) {
	tt, ok := ggml.TypeOf(t)
	if !ok {
		return 0, fmt.Errorf("tensor type %d is not one this version's engine can load", t)
	}
	if len(ne) == 0 {
		return tt.Size, nil
	}
	if ne[0]%tt.Block != 0 {
		return 0, fmt.Errorf("a row of %d elements does not fit %s blocks of %d", ne[0], tt.Name, tt.Block)
	}
	n := ne[0] / tt.Block * tt.Size
	for _, d := range ne[1:] {
		if d <= 0 || n > (1<<62)/d {
			return 0, fmt.Errorf("tensor dimensions %v are impossible", ne)
		}
		n *= d
	}
	return n, nil
}

// whisperFileTypes names the ftype field of whisper.cpp's ggml header (ggml.h's ggml_ftype,
// after removing the quantization version, ftype / 1000).
var whisperFileTypes = map[int32]string{
	0: "f32", 1: "f16", 2: "q4_0", 3: "q4_1", 7: "q8_0", 8: "q5_0", 9: "q5_1", 10: "q2_K",
	11: "q3_K", 12: "q4_K", 13: "q5_K", 14: "q6_K", 15: "iq2_xxs", 16: "iq2_xs", 17: "iq3_xxs",
	18: "iq1_s", 19: "iq4_nl", 20: "iq3_s", 21: "iq2_s", 22: "iq4_xs", 23: "iq1_m", 24: "bf16",
	25: "mxfp4", 26: "nvfp4", 27: "q1_0", 28: "q2_0",
}
