package format

import (
	"strings"
	"testing"
)

// benchReply returns a realistic reply of about n runes: prose paragraphs, a
// list, code fences with a language and a little Chinese.
func benchReply(n int) string {
	var b strings.Builder
	for i := 0; RuneLen(b.String()) < n; i++ {
		switch i % 4 {
		case 0:
			b.WriteString("Here is what I think about it. The short answer is **yes**, with a few caveats that matter in practice. ")
			b.WriteString("Let me walk you through them one by one, with `examples` where they help.\n\n")
		case 1:
			b.WriteString("1. First, check the configuration.\n2. Then run the tests again.\n3. Finally, ship it.\n\n")
		case 2:
			b.WriteString("```go\nfunc main() {\n\tfor i := range 10 {\n\t\tfmt.Println(\"value\", i)\n\t}\n}\n```\n\n")
		case 3:
			b.WriteString("这是一个简短的中文段落。它说明了分段的效果！\n\n")
		}
	}
	return truncateRunes(b.String(), n)
}

func BenchmarkSplit(b *testing.B) {
	text := benchReply(10_000)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		_ = Split(text, 2000)
	}
}

func BenchmarkPreview(b *testing.B) {
	text := benchReply(3_000) + " and **still writing"
	b.Run("cut", func(b *testing.B) {
		b.SetBytes(int64(len(text)))
		b.ReportAllocs()
		for b.Loop() {
			_ = Preview(text, 2000)
		}
	})
	b.Run("fits", func(b *testing.B) {
		b.SetBytes(int64(len(text)))
		b.ReportAllocs()
		for b.Loop() {
			_ = Preview(text, 4000)
		}
	})
}

func BenchmarkNeutralizeMentions(b *testing.B) {
	text := benchReply(3_000)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		_ = NeutralizeMentions(text)
	}
}

func TestBenchReplySplits(t *testing.T) {
	t.Parallel()
	parts := checkSplit(t, benchReply(10_000), 2000)
	if len(parts) < 5 || len(parts) > 7 {
		t.Errorf("benchReply(10000) split into %d parts, want 5 to 7", len(parts))
	}
}
