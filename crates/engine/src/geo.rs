//! A phone's shared position as a coarse place, without any outside service: the nearest of the capitals and
//! large cities of mainland China's provinces (an embedded table), within 300 km; farther, none.

/// (city, province, latitude, longitude).
const CITIES: &[(&str, &str, f64, f64)] = &[
    ("北京", "北京", 39.904, 116.407),
    ("天津", "天津", 39.084, 117.201),
    ("上海", "上海", 31.230, 121.474),
    ("重庆", "重庆", 29.563, 106.551),
    ("石家庄", "河北", 38.042, 114.515),
    ("太原", "山西", 37.870, 112.549),
    ("呼和浩特", "内蒙古", 40.842, 111.749),
    ("沈阳", "辽宁", 41.806, 123.432),
    ("大连", "辽宁", 38.914, 121.615),
    ("长春", "吉林", 43.817, 125.324),
    ("哈尔滨", "黑龙江", 45.803, 126.535),
    ("齐齐哈尔", "黑龙江", 47.354, 123.918),
    ("南京", "江苏", 32.060, 118.797),
    ("苏州", "江苏", 31.299, 120.585),
    ("杭州", "浙江", 30.274, 120.155),
    ("宁波", "浙江", 29.868, 121.544),
    ("合肥", "安徽", 31.821, 117.227),
    ("福州", "福建", 26.075, 119.296),
    ("厦门", "福建", 24.480, 118.089),
    ("南昌", "江西", 28.682, 115.858),
    ("济南", "山东", 36.651, 117.120),
    ("青岛", "山东", 36.067, 120.383),
    ("郑州", "河南", 34.747, 113.625),
    ("武汉", "湖北", 30.593, 114.305),
    ("长沙", "湖南", 28.228, 112.939),
    ("广州", "广东", 23.129, 113.264),
    ("深圳", "广东", 22.543, 114.058),
    ("南宁", "广西", 22.817, 108.366),
    ("海口", "海南", 20.044, 110.199),
    ("成都", "四川", 30.573, 104.066),
    ("贵阳", "贵州", 26.647, 106.630),
    ("昆明", "云南", 24.880, 102.833),
    ("拉萨", "西藏", 29.652, 91.172),
    ("西安", "陕西", 34.341, 108.940),
    ("兰州", "甘肃", 36.061, 103.834),
    ("西宁", "青海", 36.617, 101.778),
    ("银川", "宁夏", 38.487, 106.231),
    ("乌鲁木齐", "新疆", 43.825, 87.617),
    ("香港", "香港", 22.320, 114.169),
    ("澳门", "澳门", 22.199, 113.544),
    ("台北", "台湾", 25.033, 121.565),
];

/// Farther than this from every city, a position names no place.
const MAX_KM: f64 = 300.0;

/// Great-circle distance in km.
fn km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (la1, lo1, la2, lo2) = (
        a.0.to_radians(),
        a.1.to_radians(),
        b.0.to_radians(),
        b.1.to_radians(),
    );
    let h = ((la2 - la1) / 2.0).sin().powi(2)
        + la1.cos() * la2.cos() * ((lo2 - lo1) / 2.0).sin().powi(2);
    2.0 * 6371.0 * h.sqrt().asin()
}

/// The nearest city and its province to `(lat, lon)`, within 300 km (`None` for an invalid position).
pub fn nearest_city(lat: f64, lon: f64) -> Option<(&'static str, &'static str)> {
    if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) {
        return None;
    }
    CITIES
        .iter()
        .map(|&(c, p, la, lo)| (km((lat, lon), (la, lo)), c, p))
        .filter(|(d, _, _)| *d <= MAX_KM)
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c, p)| (c, p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_name_the_nearest_city() {
        assert_eq!(nearest_city(30.66, 104.06), Some(("成都", "四川")));
        assert_eq!(
            nearest_city(23.02, 113.75),
            Some(("广州", "广东")),
            "Dongguan is nearer Guangzhou"
        );
        assert_eq!(nearest_city(48.85, 2.35), None, "Paris is no Chinese city");
        assert_eq!(nearest_city(91.0, 0.0), None);
    }
}
