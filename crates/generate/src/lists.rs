//! The small vocabularies a synthetic book is drawn from: names, cities,
//! occupations, companies, interaction topics. Every list is non-empty.

/// Common surnames, most frequent first, with their pinyin (for e-mail addresses).
pub(crate) const SURNAMES: &[(&str, &str)] = &[
    ("王", "wang"),
    ("李", "li"),
    ("张", "zhang"),
    ("刘", "liu"),
    ("陈", "chen"),
    ("杨", "yang"),
    ("黄", "huang"),
    ("赵", "zhao"),
    ("吴", "wu"),
    ("周", "zhou"),
    ("徐", "xu"),
    ("孙", "sun"),
    ("马", "ma"),
    ("朱", "zhu"),
    ("胡", "hu"),
    ("郭", "guo"),
    ("何", "he"),
    ("高", "gao"),
    ("林", "lin"),
    ("罗", "luo"),
    ("郑", "zheng"),
    ("梁", "liang"),
    ("谢", "xie"),
    ("宋", "song"),
    ("唐", "tang"),
    ("许", "xu"),
    ("韩", "han"),
    ("冯", "feng"),
    ("邓", "deng"),
    ("曹", "cao"),
    ("彭", "peng"),
    ("曾", "zeng"),
    ("肖", "xiao"),
    ("田", "tian"),
    ("董", "dong"),
    ("袁", "yuan"),
    ("潘", "pan"),
    ("于", "yu"),
    ("蒋", "jiang"),
    ("蔡", "cai"),
    ("余", "yu"),
    ("杜", "du"),
    ("叶", "ye"),
    ("程", "cheng"),
    ("苏", "su"),
    ("魏", "wei"),
    ("吕", "lv"),
    ("丁", "ding"),
    ("任", "ren"),
    ("沈", "shen"),
    ("欧阳", "ouyang"),
    ("司马", "sima"),
];

/// Characters of given names usually chosen for boys, with pinyin.
pub(crate) const GIVEN_M: &[(&str, &str)] = &[
    ("伟", "wei"),
    ("强", "qiang"),
    ("磊", "lei"),
    ("军", "jun"),
    ("勇", "yong"),
    ("杰", "jie"),
    ("涛", "tao"),
    ("明", "ming"),
    ("超", "chao"),
    ("刚", "gang"),
    ("平", "ping"),
    ("辉", "hui"),
    ("鹏", "peng"),
    ("华", "hua"),
    ("飞", "fei"),
    ("鑫", "xin"),
    ("波", "bo"),
    ("斌", "bin"),
    ("宇", "yu"),
    ("浩", "hao"),
    ("凯", "kai"),
    ("健", "jian"),
    ("俊", "jun"),
    ("帆", "fan"),
    ("建", "jian"),
    ("国", "guo"),
    ("志", "zhi"),
    ("文", "wen"),
    ("博", "bo"),
    ("晨", "chen"),
    ("子", "zi"),
    ("轩", "xuan"),
    ("睿", "rui"),
    ("哲", "zhe"),
    ("毅", "yi"),
    ("龙", "long"),
];

/// Characters of given names usually chosen for girls, with pinyin.
pub(crate) const GIVEN_F: &[(&str, &str)] = &[
    ("芳", "fang"),
    ("娜", "na"),
    ("敏", "min"),
    ("静", "jing"),
    ("丽", "li"),
    ("艳", "yan"),
    ("娟", "juan"),
    ("霞", "xia"),
    ("秀", "xiu"),
    ("英", "ying"),
    ("玲", "ling"),
    ("婷", "ting"),
    ("雪", "xue"),
    ("慧", "hui"),
    ("颖", "ying"),
    ("琳", "lin"),
    ("洁", "jie"),
    ("燕", "yan"),
    ("倩", "qian"),
    ("晶", "jing"),
    ("欣", "xin"),
    ("怡", "yi"),
    ("佳", "jia"),
    ("雨", "yu"),
    ("梦", "meng"),
    ("思", "si"),
    ("琪", "qi"),
    ("萱", "xuan"),
    ("悦", "yue"),
    ("蕾", "lei"),
    ("红", "hong"),
    ("梅", "mei"),
    ("兰", "lan"),
];

/// A city with the six-digit administrative codes of some of its districts
/// (the first six digits of a resident identity card number).
pub(crate) struct City {
    pub name: &'static str,
    pub districts: &'static [&'static str],
}

/// Ten cities; branch `i` (0-based) is in city `i / 2`.
pub(crate) const CITIES: &[City] = &[
    City { name: "上海", districts: &["310101", "310104", "310105", "310115"] },
    City { name: "北京", districts: &["110101", "110102", "110105", "110108"] },
    City { name: "深圳", districts: &["440303", "440304", "440305", "440306"] },
    City { name: "广州", districts: &["440103", "440104", "440105", "440106"] },
    City { name: "杭州", districts: &["330102", "330105", "330106", "330108"] },
    City { name: "南京", districts: &["320102", "320104", "320105", "320106"] },
    City { name: "成都", districts: &["510104", "510105", "510106", "510107"] },
    City { name: "武汉", districts: &["420102", "420103", "420104", "420106"] },
    City { name: "苏州", districts: &["320505", "320506", "320507", "320508"] },
    City { name: "天津", districts: &["120101", "120102", "120103", "120104"] },
];

/// Branches of the bank.
pub(crate) const BRANCHES: u32 = 20;

/// Occupations of working-age persons.
pub(crate) const OCCUPATIONS: &[&str] = &[
    "企业职员",
    "企业职员",
    "企业职员",
    "工程师",
    "教师",
    "医生",
    "护士",
    "公务员",
    "个体工商户",
    "企业管理人员",
    "销售人员",
    "财务人员",
    "律师",
    "金融从业人员",
    "科研人员",
    "自由职业者",
    "设计师",
    "农民",
    "司机",
];

/// Occupations of the wealthier.
pub(crate) const OCCUPATIONS_WEALTHY: &[&str] =
    &["私营企业主", "企业管理人员", "企业高级管理人员", "医生", "律师", "金融从业人员"];

pub(crate) const RETIRED: &str = "退休人员";
pub(crate) const STUDENT: &str = "学生";

/// The distinctive part of a company name.
pub(crate) const FIRM_WORDS: &[&str] = &[
    "华信",
    "恒达",
    "宏远",
    "金桥",
    "瑞祥",
    "新纪元",
    "远航",
    "东方",
    "嘉禾",
    "星辰",
    "中辰",
    "安泰",
    "博雅",
    "锦绣",
    "同心",
    "天成",
    "汇通",
    "创新",
    "联合",
    "永盛",
];
pub(crate) const INDUSTRIES: &[&str] = &[
    "科技",
    "贸易",
    "实业",
    "建设工程",
    "医药",
    "物流",
    "餐饮管理",
    "电子",
    "新材料",
    "文化传媒",
    "环保",
    "食品",
    "机械制造",
    "软件",
];
pub(crate) const FIRM_SUFFIXES: &[&str] = &["有限公司", "有限公司", "有限公司", "股份有限公司"];
/// Licensed financial institutions (持牌金融机构).
pub(crate) const FINANCIAL_FIRMS: &[&str] = &[
    "证券股份有限公司",
    "基金管理有限公司",
    "保险股份有限公司",
    "资产管理有限公司",
    "信托有限责任公司",
    "期货有限公司",
];

/// Interaction topics and their likely outcomes.
pub(crate) const TOPICS: &[&str] = &[
    "资产配置建议",
    "产品到期提醒",
    "风险测评更新",
    "理财产品推介",
    "生日关怀",
    "市场行情解读",
    "养老规划",
    "子女教育金规划",
    "保险保障检视",
    "客户意见回访",
    "大额资金流动关怀",
    "代发工资业务沟通",
];
pub(crate) const OUTCOMES: &[&str] = &[
    "客户有意向，待跟进",
    "已预约面谈",
    "客户暂无需求",
    "已完成风险测评",
    "未接通，稍后再联系",
    "已发送产品资料",
    "客户表示满意",
    "客户已购买推荐产品",
    "客户提出意见，已记录",
];

/// Phone number prefixes of mainland mobile networks.
pub(crate) const PHONE_PREFIXES: &[&str] = &[
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "150", "151", "152", "153", "155", "156",
    "157", "158", "159", "180", "181", "182", "183", "184", "185", "186", "187", "188", "189",
];

/// Reserved example domains (RFC 2606): no address can reach a real person.
pub(crate) const EMAIL_DOMAINS: &[&str] = &["example.com", "example.net", "example.org"];
