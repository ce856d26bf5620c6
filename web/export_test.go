package web

// CellText lets the tests write a report's cell as the page does.
var CellText = cellText
