package slack

import (
	"strings"
	"testing"
)

// manyAngles is a 3,800-byte message with 380 "<" (and 380 "@"), the shape
// that made neutralize quadratic when it lowercased the rest of the text at
// every "<" and "@".
var manyAngles = strings.Repeat("<@U1> x y ", 380)

// manyAnglesUnicode is the same with non-ASCII text in between.
var manyAnglesUnicode = strings.Repeat("<@U1> é ", 380)

func BenchmarkNeutralize(b *testing.B) {
	for _, bc := range []struct{ name, in string }{{"ascii", manyAngles}, {"unicode", manyAnglesUnicode}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.in)))
			b.ReportAllocs()
			for b.Loop() {
				_ = neutralize(bc.in)
			}
		})
	}
}

func BenchmarkNeutralizeDelta(b *testing.B) {
	in := manyAngles + "<!he"
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		_ = neutralizeDelta(in)
	}
}
