package graph_test

import (
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/storetest"
)

// TestWebsocket speaks graphql-transport-ws: the token travels in connection_init.
func TestWebsocket(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := newAPI(t, db)
		url := "ws" + strings.TrimPrefix(a.srv.URL, "http") + "/graphql"
		dial := func() *websocket.Conn {
			d := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}, HandshakeTimeout: 5 * time.Second}
			c, _, err := d.Dial(url, nil)
			if err != nil {
				t.Fatal(err)
			}
			_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
			return c
		}
		type msg struct {
			ID      string         `json:"id,omitempty"`
			Type    string         `json:"type"`
			Payload map[string]any `json:"payload,omitempty"`
		}
		c := dial()
		defer c.Close()
		_ = c.WriteJSON(msg{Type: "connection_init", Payload: map[string]any{"Authorization": "Bearer " + a.token(auth.RoleService, "orders")}})
		var m msg
		if err := c.ReadJSON(&m); err != nil || m.Type != "connection_ack" {
			t.Fatalf("init: %+v %v", m, err)
		}
		_ = c.WriteJSON(msg{ID: "1", Type: "subscribe", Payload: map[string]any{"query": "{ program { key } }"}})
		if err := c.ReadJSON(&m); err != nil || m.Type != "next" || !strings.Contains(toJSON(m.Payload), `"key":"jd"`) {
			t.Fatalf("query over websocket: %+v %v", m, err)
		}

		anon := dial()
		defer anon.Close()
		_ = anon.WriteJSON(msg{Type: "connection_init", Payload: map[string]any{}})
		err := anon.ReadJSON(&m)
		if err == nil && m.Type == "connection_ack" {
			t.Fatal("websocket without a token was acknowledged")
		}
	})
}
