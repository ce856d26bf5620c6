package store_test

import (
	"testing"

	"github.com/crm-team/crm/store"
)

func TestSegmentMatches(t *testing.T) {
	yes, no := true, false
	moscowShop := &store.Client{Stage: store.StageGold, City: "Москва", Industry: "Розница", Tags: []string{"vip", "опт"},
		ManagerID: "m1", OrdersCount: 2, Custom: map[string]string{"car": "Volvo"}}
	kazanLead := &store.Client{Stage: store.StageWhite, City: "Казань", Industry: "Стройка", ManagerID: "m2"}
	for _, tc := range []struct {
		name       string
		seg        store.Segment
		shop, lead bool
	}{
		{"empty: everyone", store.Segment{}, true, true},
		{"stage", store.Segment{Stages: []store.Stage{store.StageGold, store.StagePlatinum}}, true, false},
		{"city, any case", store.Segment{Cities: []string{"москва"}}, true, false},
		{"city and industry", store.Segment{Cities: []string{"Москва"}, Industries: []string{"Стройка"}}, false, false},
		{"tag", store.Segment{Tags: []string{"VIP"}}, true, false},
		{"manager", store.Segment{Managers: []string{"m2"}}, false, true},
		{"has orders", store.Segment{HasOrders: &yes}, true, false},
		{"no orders", store.Segment{HasOrders: &no}, false, true},
		{"custom field", store.Segment{Custom: map[string]string{"car": "volvo"}}, true, false},
		{"or", store.Segment{Any: []store.Segment{{Cities: []string{"Казань"}}, {Tags: []string{"vip"}}}}, true, true},
		{"and with or", store.Segment{Stages: []store.Stage{store.StageWhite}, Any: []store.Segment{{Cities: []string{"Москва"}}}}, true, true},
	} {
		if got := tc.seg.Matches(moscowShop); got != tc.shop {
			t.Errorf("%s: Moscow shop %v, want %v", tc.name, got, tc.shop)
		}
		if got := tc.seg.Matches(kazanLead); got != tc.lead {
			t.Errorf("%s: Kazan lead %v, want %v", tc.name, got, tc.lead)
		}
	}
	if err := (store.Segment{Any: []store.Segment{{Stages: []store.Stage{"purple"}}}}).Validate(); err == nil {
		t.Error("an unknown stage in an alternative was accepted")
	}
}
