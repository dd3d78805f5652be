package judge

import (
	"strings"
	"testing"
)

// BenchmarkRender: one MT-Bench pairwise prompt with two 1,000-word answers.
func BenchmarkRender(b *testing.B) {
	tpl, _ := Builtin("pair-v2")
	long := strings.Repeat("Aloha! Here is a sentence about Hawaii [1]. ", 125)
	v := Vars{Question: "Compose a travel blog post about Hawaii.", AnswerA: long, AnswerB: long}
	for b.Loop() {
		if _, _, err := tpl.Render(v); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseScore: a 300-word judgment in strict mode.
func BenchmarkParseScore(b *testing.B) {
	text := strings.Repeat("The answer is accurate and clear, see [2]. ", 40) + "Rating: [[8]]"
	for b.Loop() {
		if _, err := ParseScore(text, ModeStrict, ten); err != nil {
			b.Fatal(err)
		}
	}
}
