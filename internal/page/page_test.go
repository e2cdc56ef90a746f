package page

import (
	"fmt"
	"testing"
)

func TestTrim(t *testing.T) {
	n := func(i int) *int { return &i }
	k := &Key{}
	for _, tc := range []struct {
		r          Request
		rows       []int // as read: newest first, or oldest first when Backward
		want       string
		next, prev bool
	}{
		{Request{First: n(2)}, []int{9, 8, 7}, "[9 8]", true, false},
		{Request{First: n(2)}, []int{9, 8}, "[9 8]", false, false},
		{Request{First: n(2), After: k}, []int{8}, "[8]", false, true},
		{Request{Last: n(2)}, []int{1, 2, 3}, "[2 1]", false, true},
		{Request{Last: n(2), Before: k}, []int{1, 2}, "[2 1]", true, false},
		{Request{First: n(0)}, []int{9}, "[]", true, false},
	} {
		p := Trim(tc.r, tc.rows)
		if got := fmt.Sprint(p.Items); got != tc.want || p.HasNextPage != tc.next || p.HasPreviousPage != tc.prev {
			t.Errorf("%+v over %v: %s next %v prev %v, want %s %v %v", tc.r, tc.rows, got, p.HasNextPage, p.HasPreviousPage, tc.want, tc.next, tc.prev)
		}
	}
	if (Request{First: n(1), Last: n(1)}).Validate() == nil {
		t.Error("first and last together accepted")
	}
}
