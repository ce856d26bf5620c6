package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/crm-team/crm/store"
)

// dragTo drags a card onto a column the way a browser's drag and drop does, by its
// events: headless Chromium's own dragging is not to be relied on.
func dragTo(cardID string, stage store.Stage) chromedp.Action[chromedp.Void] {
	drag := chromedp.Evaluate[bool](`(function () {
  var card = document.querySelector('.bcard[data-id="` + cardID + `"]');
  var col = document.querySelector('.column[data-stage="` + string(stage) + `"] .cards');
  var dt = new DataTransfer();
  var fire = function (el, type) { el.dispatchEvent(new DragEvent(type, {bubbles: true, cancelable: true, dataTransfer: dt})); };
  fire(card, "dragstart"); fire(col, "dragenter"); fire(col, "dragover"); fire(col, "drop"); fire(card, "dragend");
  return true;
})()`)
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := drag(ctx, t)
		return chromedp.Void{}, err
	}
}

// A manager signs in, opens the board at a phone's width, drags a card to another
// column and sees it there, the store's stage changed; a drag to a red stage asks
// why, and moves with the reason chosen.
func TestBrowserBoardDrag(t *testing.T) {
	s, _ := liveSite(t)
	anna := s.manager("Anna", store.RoleManager, 703)
	c := s.client(&store.Client{Name: "Ромашка", ManagerID: anna.ID, City: "Москва", Stage: store.StageGreen})
	s.client(&store.Client{Name: "Лютик", ManagerID: anna.ID, City: "Тверь", Stage: store.StageGrey})
	if err := s.st.Directory().Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	link, err := s.h.SignInLink(context.Background(), anna.ID)
	if err != nil {
		t.Fatal(err)
	}
	base, _, _ := strings.Cut(link, "/app/")
	ctx := browse(t)
	card := `.bcard[data-id="` + c.ID + `"]`
	goldCards := `.column[data-stage="green_gold"] ` + card
	err = chromedp.Do(ctx,
		chromedp.Navigate(link),
		chromedp.WaitVisible(chromedp.ID("signin-button")),
		chromedp.Click(chromedp.ID("signin-button")),
		chromedp.WaitVisible(chromedp.ID("client-filters")),
		chromedp.Navigate(base+"/app/board"),
		chromedp.WaitVisible(chromedp.CSS(`.column[data-stage="green"] `+card)),
	)
	if err != nil {
		t.Fatalf("open the board: %v", err)
	}
	shot(t, ctx, "board")
	err = chromedp.Do(ctx,
		dragTo(c.ID, store.StageGreenGold),
		chromedp.WaitVisible(chromedp.CSS(goldCards+".moved")),
	)
	if err != nil {
		t.Fatalf("drag the card: %v", err)
	}
	shot(t, ctx, "board-moved")
	got, err := s.st.Client(context.Background(), c.ID)
	if err != nil || got.Stage != store.StageGreenGold {
		t.Fatalf("after the drag the client is %v (%v)", got.Stage, err)
	}
	count, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`.column[data-stage="green_gold"] .column-count`)))
	if err != nil || count != "1" {
		t.Errorf("the green-gold column counts %q (%v)", count, err)
	}

	// A red stage: the dialog asks why; the move waits for the answer.
	err = chromedp.Do(ctx,
		dragTo(c.ID, store.StageRedGreen),
		chromedp.WaitVisible(chromedp.ID("move-dialog")),
	)
	if err != nil {
		t.Fatalf("drag to a red stage: %v", err)
	}
	shot(t, ctx, "board-why")
	if got, _ := s.st.Client(context.Background(), c.ID); got.Stage != store.StageGreenGold {
		t.Fatalf("moved before the reason: %s", got.Stage)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`#move-form input[name="code"][value="price"]`)),
		chromedp.Click(chromedp.CSS(`#move-form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.column[data-stage="red_green"] `+card+".moved")),
		chromedp.WaitNotVisible(chromedp.ID("move-dialog")),
	)
	if err != nil {
		t.Fatalf("give the reason: %v", err)
	}
	got, err = s.st.Client(context.Background(), c.ID)
	if err != nil || got.Stage != store.StageRedGreen || got.RefusalReason != "Too expensive" || got.RefusalCode != store.RefusalPrice {
		t.Fatalf("after the red move: %s %q %q (%v)", got.Stage, got.RefusalReason, got.RefusalCode, err)
	}
}
