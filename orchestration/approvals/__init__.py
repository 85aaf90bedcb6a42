"""Approval before publication (issue 20, items 3 and 4): the performance team approves a service's
month; the approved figures are kept exactly as approved; a later run that changes them is listed as a
restatement until the month is approved again."""
