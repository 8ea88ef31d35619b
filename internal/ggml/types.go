// Package ggml reads the headers of the model files Hark's engines load, in pure Go: GGUF
// (llama.cpp), and the ggml .bin files of whisper.cpp's speech models and of its Silero VAD.
// models' checks, llm's, asr's and the VAD's each put their own judgement and words around
// what it reads. It also holds ggml's tensor type table and GGUF's file-type names: one table,
// which each engine's tests compare with the ggml it links (llama.cpp's and whisper.cpp's
// agree on every value).
package ggml

// Type is how one ggml tensor type is stored: blocks of Block elements take Size bytes each
// (ggml.c's type_traits, ggml-common.h's block structs).
type Type struct {
	Name        string
	Block, Size int64
}

// MaxType is the highest tensor type the engines Hark compiles can load (GGML_TYPE_COUNT - 1).
const MaxType = 42

// types is indexed by the ggml_type enum value. Gaps are types ggml has removed.
var types = map[uint32]Type{
	0: {"f32", 1, 4}, 1: {"f16", 1, 2}, 2: {"q4_0", 32, 18}, 3: {"q4_1", 32, 20},
	6: {"q5_0", 32, 22}, 7: {"q5_1", 32, 24}, 8: {"q8_0", 32, 34}, 9: {"q8_1", 32, 36},
	10: {"q2_K", 256, 84}, 11: {"q3_K", 256, 110}, 12: {"q4_K", 256, 144}, 13: {"q5_K", 256, 176},
	14: {"q6_K", 256, 210}, 15: {"q8_K", 256, 292}, 16: {"iq2_xxs", 256, 66}, 17: {"iq2_xs", 256, 74},
	18: {"iq3_xxs", 256, 98}, 19: {"iq1_s", 256, 50}, 20: {"iq4_nl", 32, 18}, 21: {"iq3_s", 256, 110},
	22: {"iq2_s", 256, 82}, 23: {"iq4_xs", 256, 136}, 24: {"i8", 1, 1}, 25: {"i16", 1, 2},
	26: {"i32", 1, 4}, 27: {"i64", 1, 8}, 28: {"f64", 1, 8}, 29: {"iq1_m", 256, 56},
	30: {"bf16", 1, 2}, 34: {"tq1_0", 256, 54}, 35: {"tq2_0", 256, 66}, 39: {"mxfp4", 32, 17},
	40: {"nvfp4", 64, 36}, 41: {"q1_0", 128, 18}, 42: {"q2_0", 64, 18},
}

// TypeOf returns tensor type t's layout; ok is false for a type ggml does not have (removed,
// or newer than MaxType).
func TypeOf(t uint32) (Type, bool) {
	tt, ok := types[t]
	return tt, ok
}

// fileTypes names GGUF's general.file_type values (llama.h's llama_ftype).
var fileTypes = map[uint32]string{
	0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K",
	11: "Q3_K_S", 12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S",
	17: "Q5_K_M", 18: "Q6_K", 19: "IQ2_XXS", 20: "IQ2_XS", 21: "Q2_K_S", 22: "IQ3_XS",
	23: "IQ3_XXS", 24: "IQ1_S", 25: "IQ4_NL", 26: "IQ3_S", 27: "IQ3_M", 28: "IQ2_S",
	29: "IQ2_M", 30: "IQ4_XS", 31: "IQ1_M", 32: "BF16", 36: "TQ1_0", 37: "TQ2_0", 38: "MXFP4_MOE",
	39: "NVFP4", 40: "Q1_0", 41: "Q2_0",
}

// FileTypeName names a GGUF general.file_type value ("Q4_K_M"); "" when unknown.
func FileTypeName(ft uint32) string { return fileTypes[ft] }

// weightTypes maps the ftype of a whisper.cpp model header (ggml.h's ggml_ftype, after removing
// the quantization version) to the type of its large matrices, as ggml_ftype_to_ggml_type
// does. whisper.cpp aborts the process on any other ftype.
var weightTypes = map[int32]uint32{
	0: 0, 1: 1, 2: 2, 3: 3, 7: 8, 8: 6, 9: 7, 10: 10, 11: 11, 12: 12, 13: 13, 14: 14,
	15: 16, 16: 17, 17: 18, 18: 19, 19: 20, 20: 21, 21: 22, 22: 23, 23: 29, 24: 30,
	25: 39, 26: 40, 27: 41, 28: 42,
}

// WeightType returns the tensor type of a whisper.cpp model's large matrices for its ftype.
func WeightType(ftype int32) (uint32, bool) {
	t, ok := weightTypes[ftype]
	return t, ok
}
