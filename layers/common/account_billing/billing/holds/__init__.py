"""Pre-authorization holds (DESIGN §6): the hold as stored (`records`, `store`), the one way a
hold is placed (`placement`), its one-time release schedule (`scheduling`), releasing it exactly
once (`release`) and the hourly sweeper that releases whatever a schedule missed (`sweeper`)."""
