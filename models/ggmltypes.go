package models

import "fmt"

// ggmlType describes how one ggml tensor type is stored: blocks of blockSize elements take
// typeSize bytes each. The values come from ggml.c's type_traits and ggml-common.h's block
// structs; a file whose tensors use a type missing here cannot be checked (or loaded).
type ggmlType struct {
	name      string
	blockSize int64
	typeSize  int64
}

// ggmlTypes is indexed by the ggml_type enum value. Gaps are types ggml has removed.
var ggmlTypes = map[uint32]ggmlType{
	0:  {"f32", 1, 4},
	1:  {"f16", 1, 2},
	2:  {"q4_0", 32, 18},
	3:  {"q4_1", 32, 20},
	6:  {"q5_0", 32, 22},
	7:  {"q5_1", 32, 24},
	8:  {"q8_0", 32, 34},
	9:  {"q8_1", 32, 36},
	10: {"q2_K", 256, 84},
	11: {"q3_K", 256, 110},
	12: {"q4_K", 256, 144},
	13: {"q5_K", 256, 176},
	14: {"q6_K", 256, 210},
	15: {"q8_K", 256, 292},
	16: {"iq2_xxs", 256, 66},
	17: {"iq2_xs", 256, 74},
	18: {"iq3_xxs", 256, 98},
	19: {"iq1_s", 256, 50},
	20: {"iq4_nl", 32, 18},
	21: {"iq3_s", 256, 110},
	22: {"iq2_s", 256, 82},
	23: {"iq4_xs", 256, 136},
	24: {"i8", 1, 1},
	25: {"i16", 1, 2},
	26: {"i32", 1, 4},
	27: {"i64", 1, 8},
	28: {"f64", 1, 8},
	29: {"iq1_m", 256, 56},
	30: {"bf16", 1, 2},
	34: {"tq1_0", 256, 54},
	35: {"tq2_0", 256, 66},
	39: {"mxfp4", 32, 17},
	// Newer than the llama.cpp Hark compiles (ollama v0.17.4 stops at 39); whisper.cpp 1.9.3's
	// ggml knows them.
	40: {"nvfp4", 64, 36},
	41: {"q1_0", 128, 18},
	42: {"q2_0", 64, 18},
}

// Highest ggml type each engine's ggml understands.
const (
	maxLlamaType   = 39
	maxWhisperType = 42
)

// tensorBytes returns the stored size of a tensor of type t with dimensions ne, or an error
// for an unknown type or a shape that does not fit the type's blocks.
func tensorBytes(t uint32, ne []int64, maxType uint32) (int64, error) {
	tt, ok := ggmlTypes[t]
	if !ok || t > maxType {
		return 0, fmt.Errorf("tensor type %d is not one this version's engine can load", t)
	}
	if len(ne) == 0 {
		return tt.typeSize, nil
	}
	if ne[0]%tt.blockSize != 0 {
		return 0, fmt.Errorf("a row of %d elements does not fit %s blocks of %d", ne[0], tt.name, tt.blockSize)
	}
	n := ne[0] / tt.blockSize * tt.typeSize
	for _, d := range ne[1:] {
		if d <= 0 || n > (1<<62)/d {
			return 0, fmt.Errorf("tensor dimensions %v are impossible", ne)
		}
		n *= d
	}
	return n, nil
}

// llamaFileTypes names GGUF's general.file_type values (llama.h's llama_ftype).
var llamaFileTypes = map[uint32]string{
	0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K",
	11: "Q3_K_S", 12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S",
	17: "Q5_K_M", 18: "Q6_K", 19: "IQ2_XXS", 20: "IQ2_XS", 21: "Q2_K_S", 22: "IQ3_XS",
	23: "IQ3_XXS", 24: "IQ1_S", 25: "IQ4_NL", 26: "IQ3_S", 27: "IQ3_M", 28: "IQ2_S",
	29: "IQ2_M", 30: "IQ4_XS", 31: "IQ1_M", 32: "BF16", 36: "TQ1_0", 37: "TQ2_0", 38: "MXFP4_MOE",
}

// whisperFileTypes names the ftype field of whisper.cpp's ggml header (ggml.h's ggml_ftype,
// after removing the quantization version, ftype / 1000).
var whisperFileTypes = map[int32]string{
	0: "f32", 1: "f16", 2: "q4_0", 3: "q4_1", 7: "q8_0", 8: "q5_0", 9: "q5_1", 10: "q2_K",
	11: "q3_K", 12: "q4_K", 13: "q5_K", 14: "q6_K", 15: "iq2_xxs", 16: "iq2_xs", 17: "iq3_xxs",
	18: "iq1_s", 19: "iq4_nl", 20: "iq3_s", 21: "iq2_s", 22: "iq4_xs", 23: "iq1_m", 24: "bf16",
	25: "mxfp4", 26: "nvfp4", 27: "q1_0", 28: "q2_0",
}
