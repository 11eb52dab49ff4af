package secondme

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"io"
)

// maxLineBytes bounds one SSE line. Lines of several MiB are accepted; a
// longer one ends the stream with errLineTooLong rather than exhausting
// memory.
const maxLineBytes = 16 << 20

var errLineTooLong = errors.New("secondme: stream line longer than 16 MiB")

// evKind is the type set by an event: line for the next data: line.
type evKind uint8

const (
	evNone evKind = iota
	evSession
	evToolCall
	evToolResult
	evError
	evUnknown
)

func kindOf(name []byte) evKind {
	switch string(name) {
	case "", "message":
		return evNone
	case "session":
		return evSession
	case "tool_call":
		return evToolCall
	case "tool_result":
		return evToolResult
	case "error":
		return evError
	}
	return evUnknown
}

// decoder turns SSE lines into events (secondme-api.md §6.2):
//   - every data: line is one event by itself, blank lines or not;
//   - an event: line types only the next data: line (blank lines in
//     between do not reset it);
//   - "data:" with or without one space; "\n" or "\r\n";
//   - ":" comments, id:/retry: and unknown event types are ignored;
//   - data: [DONE] ends the stream.
//
// Lines are read with ReadSlice into a reused accumulator, so there is no
// line-size limit below maxLineBytes and no allocation per line.
type decoder struct {
	r        *bufio.Reader
	acc      []byte
	scratch  []byte
	kind     evKind
	status   int      // HTTP status, for *APIError
	endpoint string   // for *APIError
	secrets  []string // redacted from server messages
}

// next returns the next event. [DONE] gives an EventDone event; event:
// error (or an untyped error object) gives a *APIError; the end of input
// gives the reader's error (io.EOF for a clean end).
func (d *decoder) next() (Event, error) {
	for {
		line, err := d.readLine()
		if err != nil {
			return Event{}, err
		}
		if len(line) == 0 || line[0] == ':' {
			continue
		}
		if bytes.HasPrefix(line, []byte("data:")) {
			data := line[5:]
			if len(data) > 0 && data[0] == ' ' {
				data = data[1:]
			}
			ev, ok, err := d.data(data)
			if err != nil || ok {
				return ev, err
			}
			continue
		}
		if bytes.HasPrefix(line, []byte("event:")) {
			d.kind = kindOf(bytes.TrimSpace(line[6:]))
		}
	}
}

// readLine returns the next line without its "\n" or "\r\n". A final line
// without a newline is returned before the reader's error.
func (d *decoder) readLine() ([]byte, error) {
	d.acc = d.acc[:0]
	for {
		chunk, err := d.r.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			if len(d.acc)+len(chunk) > maxLineBytes {
				return nil, errLineTooLong
			}
			d.acc = append(d.acc, chunk...)
			continue
		}
		line := chunk
		if len(d.acc) > 0 {
			if len(d.acc)+len(chunk) > maxLineBytes {
				return nil, errLineTooLong
			}
			d.acc = append(d.acc, chunk...)
			line = d.acc
		}
		if err != nil && (len(line) == 0 || line[len(line)-1] != '\n') {
			if len(line) > 0 && errors.Is(err, io.EOF) {
				return trimEOL(line), nil // next ReadSlice returns EOF again
			}
			return nil, err
		}
		return trimEOL(line), nil
	}
}

func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return b
}

// data handles one data: payload; ok reports whether it produced an event.
func (d *decoder) data(data []byte) (ev Event, ok bool, err error) {
	kind := d.kind
	d.kind = evNone
	if string(bytes.TrimSpace(data)) == "[DONE]" {
		return Event{Type: EventDone}, true, nil
	}
	switch kind {
	case evNone:
		if raw, esc, fast := fastDelta(data); fast {
			if len(raw) == 0 {
				return Event{}, false, nil
			}
			if !esc {
				return Event{Type: EventDelta, Text: string(raw)}, true, nil
			}
			var uok bool
			if d.scratch, uok = appendUnescaped(d.scratch[:0], raw); uok {
				return Event{Type: EventDelta, Text: string(d.scratch)}, true, nil
			}
		}
		return d.untyped(data)
	case evSession:
		if id := sessionIDOf(data); id != "" {
			return Event{Type: EventSession, SessionID: id}, true, nil
		}
	case evToolCall, evToolResult:
		var w struct {
			ToolName    flexString `json:"toolName"`
			Status      flexString `json:"status"`
			Query       flexString `json:"query"`
			ResultCount flexInt    `json:"resultCount"`
		}
		if json.Unmarshal(data, &w) == nil {
			k := "tool_call"
			if kind == evToolResult {
				k = "tool_result"
			}
			return Event{Type: EventTool, Tool: &ToolActivity{
				Kind: k, ToolName: w.ToolName.V, Status: w.Status.V, Query: w.Query.V, ResultCount: int(w.ResultCount.V),
			}}, true, nil
		}
	case evError:
		return Event{}, false, apiErrorFromBody(d.newAPIError(), data, d.secrets)
	}
	return Event{}, false, nil
}

// untyped handles a data line without event type that is not a fast-path
// delta: text at any of the tolerated places, else an error object with a
// non-zero code, else a bare {"sessionId"}; anything else is ignored.
func (d *decoder) untyped(data []byte) (Event, bool, error) {
	text, found, err := slowDelta(data)
	if err == nil && found {
		if text == "" {
			return Event{}, false, nil
		}
		return Event{Type: EventDelta, Text: text}, true, nil
	}
	// One decode serves both the error check and the error itself.
	var w struct {
		envelope
		SessionID flexString `json:"sessionId"`
	}
	if json.Unmarshal(data, &w) != nil {
		return Event{}, false, nil
	}
	if w.Code.Set && w.Code.V != 0 {
		return Event{}, false, apiErrorFromEnvelope(d.newAPIError(), &w.envelope, d.secrets)
	}
	if w.SessionID.V != "" {
		return Event{Type: EventSession, SessionID: w.SessionID.V}, true, nil
	}
	return Event{}, false, nil
}

func (d *decoder) newAPIError() *APIError {
	return &APIError{HTTPStatus: d.status, Endpoint: d.endpoint}
}

// sessionIDOf reads {"sessionId": …} (or session_id, or a bare string).
func sessionIDOf(data []byte) string {
	var w struct {
		SessionID      flexString `json:"sessionId"`
		SessionIDSnake flexString `json:"session_id"`
	}
	if err := json.Unmarshal(data, &w); err != nil {
		if t := bytes.TrimSpace(data); len(t) > 0 && t[0] != '{' && t[0] != '[' {
			return string(t)
		}
		return ""
	}
	return cmp.Or(w.SessionID.V, w.SessionIDSnake.V)
}
