"""payreform"""
