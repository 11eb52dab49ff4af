package secondme

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"runtime"
	"testing"
	"time"
)

// realisticStream is a session event and n deltas of a few tokens each,
// encoded as the live API does, then [DONE].
func realisticStream(n int, blank bool) []byte {
	words := []string{"Hello", ",", " I", " am", " your", " AI", " avatar", ".", " Last", " week",
		" you", " worked", " on", " the", " bridge", "\n\n", " 你好", "—", " it’s", " \"quoted\""}
	sep := "\n"
	if blank {
		sep = "\n\n"
	}
	var b bytes.Buffer
	b.WriteString("event: session\ndata: {\"sessionId\":\"labs_sess_a1b2c3\"}" + sep)
	for i := range n {
		text := words[i%len(words)] + words[(i*7+3)%len(words)]
		p, _ := json.Marshal(map[string]any{"choices": []any{map[string]any{"delta": map[string]string{"content": text}}}})
		b.WriteString("data: ")
		b.Write(p)
		b.WriteString(sep)
	}
	b.WriteString("data: [DONE]" + sep)
	return b.Bytes()
}

func BenchmarkParser(b *testing.B) {
	const deltasPerStream = 1000
	for _, tc := range []struct {
		name   string
		blank  bool
		stream bool // through Stream.Next (idle timer armed) instead of the bare decoder
	}{
		{"NoBlankLines", false, false},
		{"BlankLines", true, false},
		{"StreamNoBlankLines", false, true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			data := realisticStream(deltasPerStream, tc.blank)
			rd := bytes.NewReader(data)
			d := decoder{r: bufio.NewReaderSize(rd, 32<<10)}
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			deltas := 0
			b.ResetTimer()
			for range b.N {
				rd.Reset(data)
				if tc.stream {
					s := newStream(context.Background(), time.Minute, "/x", nil)
					s.attach(io.NopCloser(rd), 200)
					for s.Next() {
						if s.Current().Type == EventDelta {
							deltas++
						}
					}
					if s.Err() != nil {
						b.Fatal(s.Err())
					}
					continue
				}
				d.r.Reset(rd)
				for {
					ev, err := d.next()
					if err != nil {
						b.Fatal(err)
					}
					if ev.Type == EventDone {
						break
					}
					if ev.Type == EventDelta {
						deltas++
					}
				}
			}
			b.StopTimer()
			runtime.ReadMemStats(&after)
			if deltas != b.N*deltasPerStream {
				b.Fatalf("parsed %d deltas, want %d", deltas, b.N*deltasPerStream)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(deltas), "ns/delta")
			b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(deltas), "allocs/delta")
		})
	}
}
