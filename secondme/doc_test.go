package secondme_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/secondme-bridge/secondme-bridge/secondme"
	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
)

// Example shows a chat turn against the fake SecondMe.
func Example() {
	s := secondmetest.NewServer(nil, secondmetest.Options{})
	defer s.Close()
	s.QueueStream(secondmetest.Script{SessionID: "labs_sess_demo", Deltas: []string{"Hello", ", I am", " your avatar"}})
	c := s.Client(secondme.WithAppID("secondme-bridge"))
	tok := s.IssueToken("42")

	st, err := c.ChatStream(context.Background(), tok.AccessToken, secondme.ChatRequest{Message: "Introduce yourself"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer st.Close()
	for st.Next() {
		switch ev := st.Current(); ev.Type {
		case secondme.EventSession:
			fmt.Println("session:", ev.SessionID)
		case secondme.EventDelta:
			fmt.Print(ev.Text)
		case secondme.EventDone:
			fmt.Println()
		}
	}
	fmt.Println("err:", st.Err())
	// Output:
	// session: labs_sess_demo
	// Hello, I am your avatar
	// err: <nil>
}

func TestDocExampleFakeClosed(t *testing.T) {
	t.Parallel()
	s := secondmetest.NewServer(nil, secondmetest.Options{})
	s.Close()
	s.Close() // idempotent
	if _, err := s.Client().UserInfo(t.Context(), "lba_at_x"); err == nil {
		t.Error("closed fake answered")
	}
}
