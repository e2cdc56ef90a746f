package demo

import (
	"time"

	entmember "github.com/membergraph/membergraph/ent/member"
	"github.com/membergraph/membergraph/internal/events/payload"
	"github.com/membergraph/membergraph/internal/points"
)

// The scripted members are written out by hand, not drawn, so that what the README shows of
// them holds for every seed; their figures are worked out in demo_test.go.

// showcaseOrder is one order of the showcase member: in history month k, on day d.
type showcaseOrder struct {
	k, d             int
	channel, oType   string
	lines            []payload.Line
	review, photo    bool   // of the first line
	refund           string // sku refunded a week later
	payment          string // "" is BANK_CARD
	virtualFirstLine bool
}

var showcaseOrders = []showcaseOrder{
	{k: 0, d: 5, channel: "APP", lines: []payload.Line{line("EARBUDS-1", "DIGITAL", 299)}},
	{k: 1, d: 8, channel: "APP", lines: []payload.Line{line("NOVEL-1", "BOOKS", 68), line("TEA-1", "FOOD", 56)}, review: true},
	{k: 1, d: 22, channel: "WEB", lines: []payload.Line{line("COAT-1", "APPAREL", 159)}, photo: true},
	{k: 2, d: 3, channel: "APP", lines: []payload.Line{line("PHONE-1", "PHONES", 2499)}, photo: true},
	{k: 2, d: 17, channel: "APP", lines: []payload.Line{line("FRUIT-1", "FRESH", 88)}},
	{k: 3, d: 9, channel: "MINI_PROGRAM", lines: []payload.Line{line("ATLAS-1", "BOOKS", 59), line("PUZZLE-1", "TOYS", 79)}, review: true},
	{k: 3, d: 25, channel: "APP", lines: []payload.Line{line("LAMP-1", "HOME", 129)}},
	{k: 4, d: 6, channel: "APP", lines: []payload.Line{line("DRESS-1", "APPAREL", 199), line("BAG-1", "SHOES_BAGS", 99)}, photo: true},
	{k: 4, d: 20, channel: "WEB", lines: []payload.Line{line("COIN-1", "INVESTMENT_METALS", 100)}},
	{k: 5, d: 11, channel: "APP", lines: []payload.Line{line("PAN-1", "KITCHEN", 69)}, review: true},
	{k: 5, d: 27, channel: "APP", oType: "GROUP_BUY", lines: []payload.Line{line("RICE-1", "FOOD", 48)}},
	{k: 6, d: 4, channel: "APP", lines: []payload.Line{line("SERUM-1", "BEAUTY", 99)}, photo: true},
	{k: 6, d: 18, channel: "WEB", lines: []payload.Line{line("COOKBOOK-1", "BOOKS", 176)}, review: true},
	{k: 7, d: 7, channel: "APP", lines: []payload.Line{line("TOPUP-1", "DIGITAL", 50)}, virtualFirstLine: true},
	{k: 7, d: 21, channel: "APP", lines: []payload.Line{line("SWEATER-1", "APPAREL", 129)}, photo: true},
	{k: 8, d: 2, channel: "APP", lines: []payload.Line{line("RACKET-1", "SPORTS", 89)}, review: true},
	{k: 8, d: 16, channel: "APP", lines: []payload.Line{line("MANGA-1", "BOOKS", 88), line("SNACKS-1", "FOOD", 36)}, review: true},
	{k: 9, d: 10, channel: "WEB", lines: []payload.Line{line("VITAMINS-1", "HEALTH", 69)}},
	{k: 9, d: 24, channel: "APP", lines: []payload.Line{line("CATFOOD-1", "PETS", 59)}, review: true},
	{k: 10, d: 5, channel: "APP", lines: []payload.Line{line("JACKET-1", "APPAREL", 139)}, photo: true},
	{k: 10, d: 19, channel: "APP", lines: []payload.Line{line("RUG-1", "HOME", 99), line("KETTLE-1", "KITCHEN", 69)}, refund: "KETTLE-1"},
	{k: 11, d: 3, channel: "APP", lines: []payload.Line{line("ESSAYS-1", "BOOKS", 168)}, review: true},
	{k: 11, d: 14, channel: "APP", payment: "GIFT_CARD", lines: []payload.Line{line("BERRIES-1", "FRESH", 78)}},
}

// showcase writes ShowcaseMember: a Gold member a year into the programme with a real name,
// two bound accounts, good risk signals, 23 orders over 15 categories (a phone among them, a
// refunded kettle, a gold coin and a group buy that earn no points), reviews with and
// without photos and check-ins enough for several medals, and points from the month twelve
// months back, which expire at the end of that calendar year.
func showcase(b *builder) {
	b.register(b.at(0, 1, 9, 30).AddDate(-1, 0, 0), entmember.RegistrationChannelAPP, "Lin Xiaoyu", entmember.GenderFEMALE,
		time.Date(1994, 6, 18, 0, 0, 0, 0, time.UTC))
	b.add(payload.AccountVerified, b.at(0, 2, 10, 0), "APP", payload.Body{})
	b.add(payload.AccountBound, b.at(0, 2, 10, 5), "APP", payload.Body{Provider: "WECHAT"})
	b.add(payload.AccountBound, b.at(0, 2, 10, 6), "APP", payload.Body{Provider: "QQ"})
	b.risk(b.at(0, 3, 4, 0), 86, 88)
	for k := range 12 {
		for _, d := range []int{1, 9, 15, 23} {
			b.add(payload.AppOpened, b.at(k, d, 21, 0), "APP", payload.Body{})
		}
	}
	b.add(payload.CheckIn, b.at(0, 5, 8, 0), "APP", payload.Body{})
	b.add(payload.CheckIn, b.at(0, 6, 8, 0), "APP", payload.Body{})
	for k := 1; k <= 8; k++ {
		for _, d := range []int{2, 12, 20} {
			b.add(payload.CheckIn, b.at(k, d, 8, 0), "APP", payload.Body{})
		}
	}
	for _, k := range []int{3, 6, 9} {
		b.add(payload.QuestionAnswered, b.at(k, 14, 19, 0), "APP", payload.Body{})
	}
	for _, k := range []int{2, 4, 7, 10} {
		b.add(payload.ProductShared, b.at(k, 26, 20, 0), "APP", payload.Body{})
	}
	for _, o := range showcaseOrders {
		lines := append([]payload.Line(nil), o.lines...)
		if o.virtualFirstLine {
			lines[0].ProductType = "VIRTUAL"
		}
		at := b.at(o.k, o.d, 20, 30)
		id := b.order(at, o.channel, or(o.oType, "NORMAL"), or(o.payment, "BANK_CARD"), lines...)
		if o.review || o.photo {
			b.review(at.AddDate(0, 0, 3), o.channel, id, lines[0].SKU, o.photo)
		}
		if o.refund != "" {
			b.add(payload.OrderRefunded, at.AddDate(0, 0, 7), o.channel, payload.Body{OrderID: id, SKUs: []string{o.refund}})
		}
	}
}

// debtor writes DebtorMember: a phone bought in the app, the points spent on a catalogue
// item, then the phone returned, so the refund takes back points that are gone and leaves
// a debt.
func debtor(b *builder) {
	b.register(b.at(0, 20, 12, 0).AddDate(0, -4, 0), entmember.RegistrationChannelWEB, "Zhou Hao", entmember.GenderMALE,
		time.Date(1988, 11, 2, 0, 0, 0, 0, time.UTC))
	b.add(payload.Login, b.at(1, 10, 19, 0), "APP", payload.Body{})
	phone := b.order(b.at(1, 10, 19, 30), "APP", "NORMAL", "BANK_CARD", line("PHONE-2", "PHONES", 2599))
	guide := b.order(b.at(2, 4, 12, 0), "WEB", "NORMAL", "CASH", line("GUIDE-2", "BOOKS", 58))
	for _, d := range []int{5, 6, 7} {
		b.add(payload.CheckIn, b.at(2, d, 9, 0), "APP", payload.Body{})
	}
	b.review(b.at(2, 9, 20, 0), "WEB", guide, "GUIDE-2", false)
	b.spends = append(b.spends, points.SpendRequest{ExternalID: b.ext, Points: 290, Purpose: points.Exchange,
		IdempotencyKey: b.keyPrefix + "spend-1"})
	b.event(&b.late, payload.OrderRefunded, b.at(3, 1, 10, 0), "APP", payload.Body{OrderID: phone, SKUs: []string{"PHONE-2"}})
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
