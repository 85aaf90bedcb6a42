"""stub"""
def monthly_pack(*a): return ""
